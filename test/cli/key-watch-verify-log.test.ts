// `key watch --verify-log` (issue 14): a key notification is accepted only when the log backs it, like
// `key fetch --verify-log`; when the server (patched in the test: its transparency store hides Juliet's
// entries) serves a key the log does not back, the watch prints KEY REFUSED with the KtVerifyError code and
// sentence, ends with exit code 5, and the key is not in Romeo's trust store.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, rawSessions, type TestServer } from '../helpers/server.ts';
import { befriend } from '../helpers/roster-setup.ts';
import { startWatch } from '../helpers/key-story.ts';
import { defaultModules } from '../../src/server/modules/index.ts';
import { transparencyModule } from '../../src/server/modules/transparency/index.ts';
import { buildPubkey, createPubkey, pubkeyPrintId } from '../../src/keys/index.ts';
import { runCli, within } from './run-cli.ts';

const OPEN = `<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field><field var='pubsub#access_model'><value>open</value></field></x></publish-options>`;

function newKey() {
  const { publicKey } = generateKeyPairSync('ed25519');
  const pk = createPubkey({ publicKey, jid: 'juliet@localhost', begin: new Date('2026-01-01T00:00:00Z'), end: new Date('2036-01-01T00:00:00Z') });
  return { pk, xml: `<iq type='set'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:xmpp:pubkey:2'><item id='current'>${buildPubkey(pk).toString()}</item></publish>${OPEN}</pubsub></iq>` };
}

describe('key watch --verify-log', () => {
  let dir: string;
  let t: TestServer;
  const sessions = rawSessions(() => t);
  const conn = () => ['--jid', 'romeo@localhost/watch', '--password', 'pw', '--server', `127.0.0.1:${t.port}`, '--insecure', '--home', join(dir, 'romeo')];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-watch-log-'));
    t = await startTestServer({
      users: { 'juliet@localhost': 'pw', 'romeo@localhost': 'pw' },
      modules: [...defaultModules(), transparencyModule({ dataDir: join(dir, 'data'), epochMs: 3_600_000 })],
    });
    await befriend({ host: '127.0.0.1', port: t.port, tls: { rejectUnauthorized: false } }, { jid: 'juliet@localhost', password: 'pw' }, { jid: 'romeo@localhost', password: 'pw' }, [], []);
  });
  after(async () => {
    sessions.destroyAll();
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts a logged key, refuses one the log does not back, and exits 5', async () => {
    const juliet = await sessions.login('juliet', 'balcony');
    const good = newKey();
    const bad = newKey();
    const first = startWatch(['key', 'watch', '--verify-log', '--json', '--count', '1', ...conn()]);
    try {
      await within(first.ready, 30_000, "romeo's watch to come online");
      assert.equal((await juliet.iq(good.xml)).attrs.type, 'result');
      const { code, stdout, stderr } = await within(first.exited, 30_000, 'the watch to report the key');
      assert.equal(code, 0, stderr);
      const ev = JSON.parse(stdout.trim());
      assert.equal(ev.event, 'key');
      assert.equal(ev.key.fingerprint, pubkeyPrintId(good.pk));
      assert.equal(ev.log.domain, 'localhost');
      assert.equal(ev.log.seq, 0);
    } finally {
      await first.stop().catch(() => {});
    }

    const store = t.storage.transparency;
    const honest = store.entriesOf.bind(store);
    store.entriesOf = async () => [];
    const second = startWatch(['key', 'watch', '--verify-log', '--count', '1', ...conn()]);
    try {
      await within(second.ready, 30_000, "romeo's second watch to come online");
      assert.equal((await juliet.iq(bad.xml)).attrs.type, 'result');
      const { code, stdout, stderr } = await within(second.exited, 30_000, 'the watch to refuse the key');
      assert.equal(code, 5, stderr);
      assert.match(stdout, /KEY REFUSED  juliet@localhost item current \(via notification\): transparency log check failed \[not-logged\]: juliet@localhost's item current on urn:xmpp:pubkey:2 is not in the log of localhost .*; the key was not accepted/);
    } finally {
      store.entriesOf = honest;
      await second.stop().catch(() => {});
    }
    const l = await runCli(['key', 'list', 'juliet@localhost', '--json', '--home', join(dir, 'romeo')]);
    const prints = JSON.parse(l.stdout).map((k: { fingerprint: string }) => k.fingerprint);
    assert.deepEqual(prints, [pubkeyPrintId(good.pk)], 'the refused key is not in the trust store');
  });
});
