// `key fetch JID --verify-log` (issue 14): the contact's XEP-0189 key item must be the newest event for it in
// their domain's transparency log, proven included in a fresh head; a server that leaves it out of the log
// (here: its transparency store patched to hide the contact's entries) fails the fetch with exit code 5.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, rawSessions, type TestServer } from '../helpers/server.ts';
import { defaultModules } from '../../src/server/modules/index.ts';
import { transparencyModule } from '../../src/server/modules/transparency/index.ts';
import { buildPubkey, createPubkey } from '../../src/keys/pubkey.ts';
import { runCli } from './run-cli.ts';

const OPEN = `<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field><field var='pubsub#access_model'><value>open</value></field></x></publish-options>`;

describe('key fetch --verify-log', () => {
  let dir: string;
  let t: TestServer;
  const sessions = rawSessions(() => t);
  const fetch = (...extra: string[]) =>
    runCli(['key', 'fetch', 'juliet@localhost', '--json', '--jid', 'romeo@localhost', '--password', 'pw', '--server', `127.0.0.1:${t.port}`, '--insecure', '--home', join(dir, 'romeo'), ...extra]);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-fetch-log-'));
    t = await startTestServer({
      users: { 'juliet@localhost': 'pw', 'romeo@localhost': 'pw' },
      modules: [...defaultModules(), transparencyModule({ dataDir: join(dir, 'data'), epochMs: 3_600_000 })],
    });
    const juliet = await sessions.login('juliet', 'r');
    const { publicKey } = generateKeyPairSync('ed25519');
    const pk = createPubkey({ publicKey, jid: 'juliet@localhost', begin: new Date('2026-01-01T00:00:00Z'), end: new Date('2036-01-01T00:00:00Z'), version: 1 });
    const r = await juliet.iq(`<iq type='set'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:xmpp:pubkey:1'><item id='current'>${buildPubkey(pk).toString()}</item></publish>${OPEN}</pubsub></iq>`);
    assert.equal(r.attrs.type, 'result', r.toString());
  });
  after(async () => {
    sessions.destroyAll();
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('proves the fetched key item is logged, and reports where', async () => {
    const r = await fetch('--verify-log');
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.keys.length, 1);
    assert.equal(out.log.domain, 'localhost');
    assert.deepEqual(out.log.verified.map((v: { node: string; item: string }) => [v.node, v.item]), [['urn:xmpp:pubkey:1', 'current']]);
    // Without the flag, nothing about the log.
    const plain = await fetch();
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(JSON.parse(plain.stdout).log, undefined);
  });

  it('fails with exit code 5 when the log does not list the key', async () => {
    const store = t.storage.transparency;
    const honest = store.entriesOf.bind(store);
    store.entriesOf = async () => [];
    try {
      const r = await fetch('--verify-log');
      assert.equal(r.code, 5);
      assert.match(r.stderr, /transparency log check of juliet@localhost failed: juliet@localhost's item current on urn:xmpp:pubkey:1 is not in the log of localhost/);
      // A home that never saw the key does not hold it afterwards: the check runs before the trust store.
      const fresh = join(dir, 'romeo-fresh');
      const f = await runCli(['key', 'fetch', 'juliet@localhost', '--verify-log', '--jid', 'romeo@localhost', '--password', 'pw', '--server', `127.0.0.1:${t.port}`, '--insecure', '--home', fresh]);
      assert.equal(f.code, 5, f.stderr);
      assert.deepEqual(JSON.parse((await runCli(['key', 'list', 'juliet@localhost', '--json', '--home', fresh])).stdout), []);
    } finally {
      store.entriesOf = honest;
    }
  });
});
