// Imports flow one way (docs/architecture.md): runtime, xml, jid → protocol → keys → storage, cluster → server →
// client, cli. A lower layer importing a higher one fails here, naming the file and the import.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { SRC, sourceFiles as files } from './source-files.ts';

const RANK: Record<string, number> = { runtime: 0, xml: 0, jid: 0, protocol: 1, keys: 2, transparency: 2, storage: 3, cluster: 3, server: 4, client: 5, cli: 6 };

const layerOf = (file: string) => relative(SRC, file).split('/')[0]!;

describe('architecture', () => {
  it('keeps imports flowing from lower layers to higher ones only', () => {
    const violations: string[] = [];
    for (const file of files(SRC)) {
      const from = layerOf(file);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:import|export)\s[^'";]*?from\s+'(\.[^']+)'/g)) {
        const target = resolve(dirname(file), m[1]!);
        if (!target.startsWith(SRC)) continue;
        const to = layerOf(target);
        if ((RANK[to] ?? 99) > (RANK[from] ?? -1)) violations.push(`${relative(SRC, file)} imports ${m[1]} (${from} → ${to})`);
      }
    }
    assert.deepEqual(violations, []);
  });

  it('keeps the pubsub engine free of XML and the core free of feature modules', () => {
    const offenders: string[] = [];
    for (const file of files(join(SRC, 'server/pubsub'))) {
      if (file.endsWith('xml.ts') || file.endsWith('index.ts')) continue;
      if (/from '[^']*\/xml\//.test(readFileSync(file, 'utf8'))) offenders.push(relative(SRC, file));
    }
    for (const file of files(join(SRC, 'server/core'))) {
      if (/from '[^']*(modules|pubsub)\//.test(readFileSync(file, 'utf8'))) offenders.push(relative(SRC, file));
    }
    assert.deepEqual(offenders, []);
  });
});
