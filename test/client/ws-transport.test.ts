// The client SDK over RFC 7395 (ws-transport.ts, with the `ws` package in Node) against our server's
// /xmpp-websocket: the same negotiation code as TCP logs in with SCRAM, binds, exchanges IQs and closes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, parseConfig, deriveCredentials, type XmppServer } from '../../src/server/index.ts';
import { XmppClient, ClientError, getRoster, setRosterItem } from '../../src/client/index.ts';

describe('client over WebSocket', () => {
  let dir: string;
  let server: XmppServer;
  let ws: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pepkeys-wsclient-'));
    const started = await startServer(parseConfig({
      hosts: ['localhost'],
      data_dir: dir,
      log_level: 'silent',
      c2s: { listen: ['127.0.0.1:0'], require_tls: false, insecure_plain_auth: true },
      http: { listen: ['127.0.0.1:0'] },
    }));
    server = started.server;
    ws = `ws://127.0.0.1:${started.http[0]!.port}/xmpp-websocket`;
    await server.storage.accounts.create('juliet@localhost', deriveCredentials('balcony', 4096));
  });

  after(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('logs in with SCRAM-SHA-256, binds, sends IQs and closes cleanly', async () => {
    const c = await XmppClient.connect({ jid: 'juliet@localhost', password: 'balcony', websocket: ws, requireTls: false, resource: 'web' });
    assert.equal(c.jid.full, 'juliet@localhost/web');
    assert.equal(c.connection.info.mechanism, 'SCRAM-SHA-256');
    assert.equal(c.connection.secure, false);
    await setRosterItem(c, 'romeo@localhost', { groups: ['Friends'] });
    assert.deepEqual((await getRoster(c)).map((e) => [e.jid, e.groups]), [['romeo@localhost', ['Friends']]]);
    const closed = new Promise<unknown>((r) => c.once('close', r));
    await c.close();
    assert.equal(await closed, undefined);
    assert.equal(c.isOpen, false);
  });

  it('reports a wrong password as auth-failed', async () => {
    await assert.rejects(
      XmppClient.connect({ jid: 'juliet@localhost', password: 'nurse', websocket: ws, requireTls: false }),
      (e: ClientError) => e.code === 'auth-failed',
    );
  });

  it('refuses to log in over plain ws: unless told the stream may be unencrypted', async () => {
    await assert.rejects(
      XmppClient.connect({ jid: 'juliet@localhost', password: 'balcony', websocket: ws }),
      (e: ClientError) => e.code === 'tls-required',
    );
  });

  it('reports a URL that is not an XMPP WebSocket endpoint', async () => {
    await assert.rejects(
      XmppClient.connect({ jid: 'juliet@localhost', password: 'balcony', websocket: ws.replace('/xmpp-websocket', '/nothing-here'), requireTls: false, timeoutMs: 5000 }),
      (e: ClientError) => e.code === 'connect-failed',
    );
  });
});
