// `pepkeys backup` carries the domains' transparency log keys (DATA/kt/*.ed25519.pem) and `pepkeys restore`
// puts them back 0600: a restored server signs its tree heads with the same key, so clients that pinned it
// see no key change. Restore refuses to overwrite a different key without --force, and keeps it beside.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { x } from '../../src/xml/index.ts';
import { NS_KT, parseTreeHead } from '../../src/transparency/protocol.ts';
import { verifyTreeHead } from '../../src/transparency/tree-head.ts';
import { loadOrCreateLogKey, logKeyPath } from '../../src/server/modules/transparency/log-key.ts';
import { runCli } from './run-cli.ts';
import { askServed, scratchDirs } from './backup-helpers.ts';

const fresh = scratchDirs('pepkeys-backup-kt-');

async function signedHeadKey(dir: string, config: string): Promise<string> {
  return askServed(dir, config, async (c) => {
    const head = parseTreeHead((await c.iq(x('iq', { type: 'get', to: 'localhost' }, x('head', { xmlns: NS_KT, fresh: 'true' })))).getChild('tree-head', NS_KT)!);
    assert.ok(verifyTreeHead(head));
    return Buffer.from(head.key).toString('base64');
  });
}

describe('pepkeys backup and restore of the transparency log keys', () => {
  it('restores the log key 0600, and the restored server signs its heads with the same key', async () => {
    const dir = fresh();
    const live = join(dir, 'live');
    const restored = join(dir, 'restored');
    const file = join(dir, 'pepkeys.backup');
    const config = join(dir, 'pepkeys.toml');
    writeFileSync(config, '[kt]\nenabled = true\n');
    assert.equal((await runCli(['user', 'add', 'juliet@localhost', '--password', 'pw', '--create', '--data', live])).code, 0);
    const before = await signedHeadKey(live, config);
    const pem = readFileSync(logKeyPath(live, 'localhost'));

    const b = await runCli(['backup', '--data', live, file]);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /\nwith the transparency keys localhost\.commit-secret, localhost\.ed25519\.pem, localhost\.vrf\.ed25519\.pem\n$/);
    const r = await runCli(['restore', file, '--data', restored]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\nrestored the transparency keys localhost\.commit-secret, localhost\.ed25519\.pem, localhost\.vrf\.ed25519\.pem to .*\/restored\/kt \(0600\)\n$/);
    const key = logKeyPath(restored, 'localhost');
    assert.deepEqual(readFileSync(key), pem);
    assert.equal(statSync(key).mode & 0o777, 0o600);
    assert.equal(statSync(join(restored, 'kt')).mode & 0o777, 0o700);
    // The restored database keeps no copy of the key.
    const db = new Database(join(restored, 'pepkeys.sqlite'), { readonly: true });
    try {
      assert.equal(db.prepare(`SELECT count(*) FROM sqlite_schema WHERE name = 'pepkeys_backup_files'`).pluck().get(), 0);
    } finally {
      db.close();
    }
    assert.equal(await signedHeadKey(restored, config), before);
  });

  it('refuses to replace a different log key without --force; with it, keeps the replaced key beside', async () => {
    const dir = fresh();
    const live = join(dir, 'live');
    const other = join(dir, 'other');
    const keyOnly = join(dir, 'key-only');
    const file = join(dir, 'pepkeys.backup');
    const config = join(dir, 'pepkeys.toml');
    writeFileSync(config, '[kt]\nenabled = true\n');
    for (const d of [live, other]) assert.equal((await runCli(['user', 'add', 'juliet@localhost', '--password', 'pw', '--create', '--data', d])).code, 0);
    const liveKey = await signedHeadKey(live, config);
    const otherKey = await signedHeadKey(other, config);
    assert.notEqual(otherKey, liveKey);
    assert.equal((await runCli(['backup', '--data', live, file])).code, 0);

    // A data directory with no database but another domain key: nothing is restored.
    loadOrCreateLogKey(keyOnly, 'localhost');
    const mine = readFileSync(logKeyPath(keyOnly, 'localhost'));
    const refused = await runCli(['restore', file, '--data', keyOnly]);
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr, `pepkeys: ${logKeyPath(keyOnly, 'localhost')} holds another log key than the backup's: give --force to replace it (it is kept beside, renamed)\n`);
    assert.deepEqual(readFileSync(logKeyPath(keyOnly, 'localhost')), mine);
    assert.ok(!existsSync(join(keyOnly, 'pepkeys.sqlite')), 'nothing restored');

    const forced = await runCli(['restore', file, '--data', other, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    const kept = readdirSync(join(other, 'kt')).filter((n) => n.startsWith('localhost.ed25519.pem.replaced-'));
    assert.equal(kept.length, 1);
    assert.equal(statSync(join(other, 'kt', kept[0]!)).mode & 0o777, 0o600);
    assert.equal(await signedHeadKey(other, config), liveKey);
  });
});
