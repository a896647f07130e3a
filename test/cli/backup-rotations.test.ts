// `pepkeys backup`/`restore` carry a domain's log-key rotation statements (DATA/kt/DOMAIN.rotations.xml) and
// the retired keys with the current key: without the statements, a restored server signs with the new key
// but can no longer show the statement linking it to the old one, and clients that pinned the old key see a
// key change they cannot check.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { x } from '../../src/xml/index.ts';
import { NS_KT } from '../../src/transparency/protocol.ts';
import { loadOrCreateLogKey } from '../../src/server/modules/transparency/log-key.ts';
import { rotateLogKey, rotationsPath } from '../../src/server/modules/transparency/key-rotations.ts';
import { runCli } from './run-cli.ts';
import { askServed, scratchDirs } from './backup-helpers.ts';

const fresh = scratchDirs('pepkeys-backup-rotations-');

async function servedRotations(dir: string, config: string): Promise<number> {
  return askServed(dir, config, async (c) => {
    const answer = (await c.iq(x('iq', { type: 'get', to: 'localhost' }, x('key-rotations', { xmlns: NS_KT })))).getChild('key-rotations', NS_KT)!;
    return answer.getChildren('key-rotation', NS_KT).length;
  });
}

describe('pepkeys backup and restore of log-key rotations', () => {
  it('restores the rotation statements and the retired key, and the restored server serves the statement', async () => {
    const dir = fresh();
    const live = join(dir, 'live');
    const restored = join(dir, 'restored');
    const file = join(dir, 'pepkeys.backup');
    const config = join(dir, 'pepkeys.toml');
    writeFileSync(config, '[kt]\nenabled = true\n');
    assert.equal((await runCli(['user', 'add', 'juliet@localhost', '--password', 'pw', '--create', '--data', live])).code, 0);
    loadOrCreateLogKey(live, 'localhost');
    const { retired } = rotateLogKey(live, 'localhost');
    assert.equal(await servedRotations(live, config), 1);

    const b = await runCli(['backup', '--data', live, file]);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /localhost\.rotations\.xml/);
    assert.ok(b.stdout.includes(basename(retired)), b.stdout);
    const r = await runCli(['restore', file, '--data', restored]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readFileSync(rotationsPath(restored, 'localhost')), readFileSync(rotationsPath(live, 'localhost')));
    assert.deepEqual(readFileSync(join(restored, 'kt', basename(retired))), readFileSync(retired));
    assert.equal(statSync(rotationsPath(restored, 'localhost')).mode & 0o777, 0o600);
    assert.equal(await servedRotations(restored, config), 1);
  });
});
