// The pubsub engine's public API takes no positional string triples: the service is a context
// (`engine.service(jid)`), and every operation takes the node first and the acting entity second, typed as a
// parsed JID, so the two can be neither swapped nor confused with the operation's own strings (issue 17:
// `getSubscriptions(service, requester, node?)` against `getNodeSubscriptions(service, node, requester)`).
// Read from the sources with the TypeScript parser, so a new method is checked without listing it here.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import ts from 'typescript';

interface Param {
  name: string;
  type: string;
  optional: boolean;
}

/** Public methods of `className` in `source`, with their parameters as written. */
function publicMethods(source: string, className: string): Map<string, Param[]> {
  const file = ts.createSourceFile('api.ts', source, ts.ScriptTarget.Latest, true);
  const methods = new Map<string, Param[]>();
  const visit = (node: ts.Node) => {
    if (ts.isClassDeclaration(node) && node.name?.text === className) {
      for (const m of node.members) {
        if (!ts.isMethodDeclaration(m) || !ts.isIdentifier(m.name)) continue;
        const hidden = ts.getModifiers(m)?.some((x) => x.kind === ts.SyntaxKind.PrivateKeyword || x.kind === ts.SyntaxKind.ProtectedKeyword);
        if (hidden || m.name.text.startsWith('#')) continue;
        methods.set(m.name.text, m.parameters.map((p) => ({
          name: p.name.getText(file),
          type: p.type?.getText(file) ?? 'any',
          optional: p.questionToken !== undefined || p.initializer !== undefined,
        })));
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return methods;
}

const isStringy = (type: string) => type.split('|').some((t) => t.trim() === 'string');

/** What is wrong with one class's public API (empty: nothing). */
function violations(source: string, className: string): string[] {
  const out: string[] = [];
  for (const [method, params] of publicMethods(source, className)) {
    const where = `${className}.${method}(${params.map((p) => p.name).join(', ')})`;
    const strings = params.filter((p) => isStringy(p.type));
    if (strings.length >= 3) out.push(`${where}: ${strings.length} positional string parameters`);
    const node = params.findIndex((p) => p.name === 'node');
    const actor = params.findIndex((p) => p.name === 'actor');
    // A required node comes first; an optional node filter belongs in an options object.
    if (node > 0) out.push(`${where}: node must be the first parameter`);
    if (node >= 0 && params[node]!.optional) out.push(`${where}: an optional node goes in an options object`);
    if (actor >= 0 && actor !== node + 1) out.push(`${where}: actor must follow node (or come first)`);
    if (actor >= 0 && params[actor]!.type !== 'Jid') out.push(`${where}: actor must be a Jid, not ${params[actor]!.type}`);
    // The service is the context the method runs in, never an argument.
    for (const p of params) if (/^(service|requester)$/.test(p.name)) out.push(`${where}: takes ${p.name}`);
  }
  return out;
}

describe('pubsub engine API', () => {
  it('the per-service context takes (node, actor, ...) and no string triples', () => {
    const source = readFileSync('src/server/pubsub/service.ts', 'utf8');
    const methods = publicMethods(source, 'PubsubService');
    assert.ok(methods.has('publish') && methods.has('items') && methods.has('subscriptions'), 'PubsubService found');
    assert.deepEqual(violations(source, 'PubsubService'), []);
  });

  it('the engine itself offers services, not node operations', () => {
    const source = readFileSync('src/server/pubsub/engine.ts', 'utf8');
    assert.ok(publicMethods(source, 'PubsubEngine').has('service'), 'PubsubEngine found');
    assert.deepEqual(violations(source, 'PubsubEngine'), []);
    for (const [method, params] of publicMethods(source, 'PubsubEngine')) {
      assert.ok(!params.some((p) => p.name === 'node'), `PubsubEngine.${method} takes a node: it belongs on the service`);
    }
  });

  it('rejects the shapes it replaced', () => {
    const old = `export class PubsubEngine {
      async getSubscriptions(service: string, requester: string, node?: string) {}
      async getNodeSubscriptions(service: string, node: string, requester: string) {}
      async items(node: string, actor: string) {}
      private async facts(record: string, a: string, b: string) {}
    }`;
    const found = violations(old, 'PubsubEngine');
    assert.ok(found.some((v) => v.startsWith('PubsubEngine.getNodeSubscriptions(service, node, requester): 3 positional string')), found.join('\n'));
    assert.ok(found.some((v) => v.startsWith('PubsubEngine.getSubscriptions(service, requester, node): 3 positional string')), found.join('\n'));
    assert.ok(found.some((v) => v === 'PubsubEngine.getNodeSubscriptions(service, node, requester): node must be the first parameter'));
    assert.ok(found.some((v) => v === 'PubsubEngine.items(node, actor): actor must be a Jid, not string'));
    assert.ok(!found.some((v) => v.includes('facts')), 'private methods are not API');
  });
});
