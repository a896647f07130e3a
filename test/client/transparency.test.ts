// KtClient against a real server with [kt] on (issue 14): heads pinned on first use and proven consistent,
// inclusion proofs checked; a head whose signature does not verify and a leaf the server rewrites in an
// inclusion answer are refused with their specific error. The server is patched here, never mocked.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, rawSessions, type TestServer } from '../helpers/server.ts';
import { defaultModules } from '../../src/server/modules/index.ts';
import { transparencyModule, TransparencyService } from '../../src/server/modules/transparency/index.ts';
import { KtClient, KtVerifyError, MemoryKtHeadStore, XmppClient } from '../../src/client/index.ts';
import { decodeLeaf, encodeLeaf } from '../../src/transparency/leaf.ts';

const publish = (n: number) => `<iq type='set'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:xmpp:pubkey:2'><item id='k${n}'><pubkey xmlns='urn:xmpp:pubkey:2'/></item></publish></pubsub></iq>`;
const failsWith = (code: string) => (err: unknown) => err instanceof KtVerifyError && err.code === code;

describe('KtClient', () => {
  let dir: string;
  let t: TestServer;
  let client: XmppClient;
  const sessions = rawSessions(() => t);
  const store = new MemoryKtHeadStore();
  let kt: KtClient;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-kt-client-'));
    t = await startTestServer({
      users: { 'juliet@localhost': 'pw', 'romeo@localhost': 'pw' },
      modules: [...defaultModules(), transparencyModule({ dataDir: dir, epochMs: 3_600_000 })],
    });
    const juliet = await sessions.login('juliet', 'r');
    for (let i = 0; i < 3; i++) assert.equal((await juliet.iq(publish(i))).attrs.type, 'result');
    client = await XmppClient.connect({ jid: 'romeo@localhost', password: 'pw', host: '127.0.0.1', port: t.port, resource: 'kt', tls: { rejectUnauthorized: false } });
    kt = new KtClient(client, store);
  });
  after(async () => {
    await client?.close();
    sessions.destroyAll();
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pins the first head, proves later heads consistent with it, and proves inclusion', async () => {
    const first = await kt.update('localhost', true);
    assert.equal(first.previous, undefined);
    assert.equal(first.head.size, 3);
    const juliet = await sessions.login('juliet', 'more');
    assert.equal((await juliet.iq(publish(3))).attrs.type, 'result');
    const next = await kt.update('localhost', true);
    assert.equal(next.previous?.size, 3);
    assert.equal(next.head.size, 4);
    assert.equal((await store.get('localhost'))?.size, 4);
    const e = await kt.verifyInclusion('localhost', 1, next.head);
    assert.equal(e.itemId, 'k1');
  });

  it('refuses a leaf the server rewrites in an inclusion answer', async () => {
    const head = (await store.get('localhost'))!;
    const s = t.storage.transparency;
    const honest = s.entries.bind(s);
    s.entries = async (d, a, b) => (await honest(d, a, b)).map((en) => ({ ...en, leaf: encodeLeaf({ ...decodeLeaf(en.leaf), itemId: 'forged' }) }));
    try {
      await assert.rejects(kt.verifyInclusion('localhost', 2, head), failsWith('inclusion'));
    } finally {
      s.entries = honest;
    }
  });

  it('refuses a head whose signature does not verify, and keeps the stored head', async () => {
    const heads = t.server.service(TransparencyService)!.get('localhost')!;
    const honest = heads.issue.bind(heads);
    // The domain's own signature over another root: what a server that lies about its root would send.
    heads.issue = async (always?: boolean) => {
      const h = await honest(always);
      return { ...h, size: h.size + 1 };
    };
    try {
      await assert.rejects(kt.update('localhost', true), (err: unknown) => failsWith('bad-signature')(err) && /signature that does not verify/.test((err as Error).message));
    } finally {
      heads.issue = honest;
    }
    assert.equal((await store.get('localhost'))?.size, 4);
  });
});
