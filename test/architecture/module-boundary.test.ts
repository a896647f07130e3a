// Modules see sessions only as the cluster's ModuleSession, never as the class of one transport, so a
// WebSocket, remote (other node) or federated session can be a peer of a TCP one. The core's listeners,
// sessions and server class are the transport; a module importing any of them fails here.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { SRC, sourceFiles as files } from './source-files.ts';

const MODULES = join(SRC, 'server/modules');
/** Imports that reach a transport: the session and server classes of core, and Node's socket modules. */
const TRANSPORT = /from\s+'([^']*(?:core\/c2s-session|core\/server|core\/pipeline)\.ts|node:(?:net|tls|dgram|http|https|http2))'/g;

describe('module boundary', () => {
  it('keeps every module away from the transport classes (they get a ModuleSession)', () => {
    const offenders: string[] = [];
    for (const file of files(MODULES)) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(TRANSPORT)) offenders.push(`${relative(SRC, file)} imports ${m[1]}`);
      if (/\bC2sSession\b/.test(text)) offenders.push(`${relative(SRC, file)} names C2sSession`);
    }
    assert.deepEqual(offenders, []);
  });

  it('recognises a transport import when there is one', () => {
    const sample = `import type { C2sSession } from '../../core/c2s-session.ts';\nimport { Socket } from 'node:net';`;
    assert.deepEqual([...sample.matchAll(TRANSPORT)].map((m) => m[1]), ['../../core/c2s-session.ts', 'node:net']);
  });
});
