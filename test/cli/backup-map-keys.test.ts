// `pepkeys backup`/`restore` carry the verifiable map's keys (DATA/kt/DOMAIN.vrf.ed25519.pem and
// DOMAIN.commit-secret) with the log keys: a restored server makes the same labels and commitments.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { commitSecretPath, loadOrCreateMapKeys, vrfKeyPath } from '../../src/server/modules/transparency/map-keys.ts';
import { runCli } from './run-cli.ts';
import { scratchDirs } from './backup-helpers.ts';

const fresh = scratchDirs('pepkeys-backup-map-keys-');

describe('pepkeys backup and restore of the verifiable map keys', () => {
  it('restores the VRF key and the commitment secret 0600, byte for byte', async () => {
    const dir = fresh();
    const live = join(dir, 'live');
    const restored = join(dir, 'restored');
    const file = join(dir, 'pepkeys.backup');
    assert.equal((await runCli(['user', 'add', 'juliet@capulet.lit', '--password', 'pw', '--create', '--data', live])).code, 0);
    const keys = loadOrCreateMapKeys(live, 'capulet.lit');

    const b = await runCli(['backup', '--data', live, file]);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /\nwith the transparency keys capulet\.lit\.commit-secret, capulet\.lit\.vrf\.ed25519\.pem\n$/);
    const r = await runCli(['restore', file, '--data', restored]);
    assert.equal(r.code, 0, r.stderr);
    for (const path of [vrfKeyPath, commitSecretPath]) {
      assert.deepEqual(readFileSync(path(restored, 'capulet.lit')), readFileSync(path(live, 'capulet.lit')));
      assert.equal(statSync(path(restored, 'capulet.lit')).mode & 0o777, 0o600);
    }
    const back = loadOrCreateMapKeys(restored, 'capulet.lit');
    assert.equal(back.created, false);
    assert.deepEqual(back.vrf, keys.vrf);
    assert.deepEqual(back.commitSecret, keys.commitSecret);
  });
});
