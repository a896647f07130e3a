// Channel binding per TLS version, over real TLS: tls-unique (RFC 5929 §3) offered on full TLS 1.2 handshakes
// only, and accepted unoffered on full TLS 1.3 ones (slixmpp), always with the right Finished message; what
// XEP-0440 announces on each version; and RFC 5802's 'y' flag, refused
// exactly when a -PLUS mechanism was offered, even after the stream has shown an attempt at a binding we do
// not have (which a man in the middle can make himself).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { startTestServerAt } from '../../../helpers/tls-version.ts';
import { RawClient, NS_HEADER } from '../../../helpers/raw-client.ts';
import { ScramClient } from '../../../helpers/scram-client.ts';
import type { TestServer } from '../../../helpers/server.ts';
import type { Element } from '../../../../src/xml/index.ts';
import { scramMechanism, deriveCredentials } from '../../../../src/server/core/sasl/index.ts';

const SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
const NS_CB = 'urn:xmpp:sasl-cb:0';
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** A direct-TLS stream's features: the mechanisms and the XEP-0440 binding types. */
async function open(port: number): Promise<{ c: RawClient; mechanisms: string[]; bindings: string[] }> {
  const c = await RawClient.connectTls(port);
  c.send(NS_HEADER('localhost'));
  const f = await c.waitStanza((e) => e.local === 'features');
  return { c, ...offer(f) };
}

function offer(features: Element) {
  return {
    mechanisms: features.getChild('mechanisms', SASL)!.getChildren('mechanism').map((m) => m.text()),
    bindings: (features.getChild('sasl-channel-binding', NS_CB)?.getChildren('channel-binding') ?? []).map((b) => b.attrs.type!),
  };
}

/** A SCRAM-SHA-256(-PLUS) login with the given gs2 flag / binding; returns the final answer. */
async function scram(c: RawClient, mechanism: string, cb: ScramClient['cb'], password = 'pw'): Promise<Element> {
  const client = new ScramClient('sha256', 'juliet', password, cb);
  c.send(`<auth xmlns='${SASL}' mechanism='${mechanism}'>${b64(client.first())}</auth>`);
  const ch = await c.waitStanza((e) => e.local === 'challenge' || e.local === 'failure');
  if (ch.local === 'failure') return ch;
  c.send(`<response xmlns='${SASL}'>${b64(client.final(Buffer.from(ch.text(), 'base64').toString()))}</response>`);
  return c.waitStanza((e) => e.local === 'success' || e.local === 'failure');
}

/** A TLS session ticket from a first connection, to resume in a second one. */
async function tlsSessionOf(port: number): Promise<Buffer> {
  const first = await open(port);
  const session = await new Promise<Buffer>((resolve) => {
    const s = first.c.tlsSocket!;
    const got = s.getSession();
    if (got) resolve(got);
    else s.once('session', resolve);
  });
  first.c.destroy();
  return session;
}

describe('channel binding over TLS 1.2', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServerAt('TLSv1.2', { insecure: false, users: { 'juliet@localhost': 'pw' }, config: { limits: { max_connections_per_ip: 0 } } });
  });
  after(() => t.stop());

  it('offers -PLUS with tls-unique and tls-server-end-point (XEP-0440), not tls-exporter', async () => {
    const { c, mechanisms, bindings } = await open(t.tlsPort);
    assert.equal(c.tlsSocket!.getProtocol(), 'TLSv1.2');
    assert.deepEqual(mechanisms.filter((m) => m.endsWith('-PLUS')), ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-1-PLUS']);
    assert.deepEqual(bindings, ['tls-unique', 'tls-server-end-point']);
    c.destroy();
  });

  it("binds to the client's Finished, the first one of a full handshake (RFC 5929 §3.1), and to nothing else", async () => {
    const { c } = await open(t.tlsPort);
    const s = c.tlsSocket!;
    // The server's Finished is the wrong one: refused as a binding mismatch, not counted as a password.
    const wrong = await scram(c, 'SCRAM-SHA-256-PLUS', { type: 'tls-unique', data: s.getPeerFinished()! });
    assert.equal(wrong.local, 'failure');
    assert.equal(t.server.authThrottle.size, 0);
    const right = await scram(c, 'SCRAM-SHA-256-PLUS', { type: 'tls-unique', data: s.getFinished()! });
    assert.equal(right.local, 'success', right.toString());
    c.destroy();
  });

  it('refuses a renegotiation, which would change what tls-unique binds to', async () => {
    const { c } = await open(t.tlsPort);
    const s = c.tlsSocket!;
    await new Promise<void>((resolve) => {
      s.renegotiate({}, () => resolve());
      s.once('close', () => resolve());
    });
    await c.waitClosed();
  });

  it('does not offer tls-unique on a resumed session (the triple-handshake attack, RFC 7627)', async () => {
    const session = await tlsSessionOf(t.tlsPort);
    const socket = await new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect({ port: t.tlsPort, host: '127.0.0.1', servername: 'localhost', rejectUnauthorized: false, session }, () => resolve(s));
      s.once('error', reject);
    });
    assert.equal(socket.isSessionReused(), true);
    socket.write(NS_HEADER('localhost'));
    let text = '';
    await new Promise<void>((resolve) => socket.on('data', (d: Buffer) => ((text += d.toString()), text.includes('</stream:features>') && resolve())));
    socket.destroy();
    assert.match(text, /SCRAM-SHA-256-PLUS/);
    assert.match(text, /<channel-binding type=["']tls-server-end-point["']\/>/);
    assert.doesNotMatch(text, /tls-unique/);
  });
});

describe('channel binding over TLS 1.3', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServerAt('TLSv1.3', { insecure: false, users: { 'juliet@localhost': 'pw' }, config: { limits: { max_connections_per_ip: 0 } } });
  });
  after(() => t.stop());

  it('offers tls-exporter and tls-server-end-point, never tls-unique (RFC 8446 §C.5)', async () => {
    const { c, bindings } = await open(t.tlsPort);
    assert.equal(c.tlsSocket!.getProtocol(), 'TLSv1.3');
    assert.deepEqual(bindings, ['tls-exporter', 'tls-server-end-point']);
    const exporter = c.tlsSocket!.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0));
    assert.equal((await scram(c, 'SCRAM-SHA-256-PLUS', { type: 'tls-exporter', data: exporter })).local, 'success');
    c.destroy();
  });

  it("accepts tls-unique without offering it, bound to the client's Finished as OpenSSL clients compute it, and to nothing else", async () => {
    // What slixmpp 1.8.3 (CPython's ssl) sends on TLS 1.3: its own Finished message.
    const { c } = await open(t.tlsPort);
    const s = c.tlsSocket!;
    const wrong = await scram(c, 'SCRAM-SHA-256-PLUS', { type: 'tls-unique', data: s.getPeerFinished()! });
    assert.equal(wrong.local, 'failure');
    assert.equal(wrong.elements[0]?.local, 'not-authorized');
    assert.equal(t.server.authThrottle.size, 0, 'a binding mismatch is not a password failure');
    const right = await scram(c, 'SCRAM-SHA-256-PLUS', { type: 'tls-unique', data: s.getFinished()! });
    assert.equal(right.local, 'success', right.toString());
    c.destroy();
  });

  it('does not accept tls-unique on a resumed TLS 1.3 session', async () => {
    const session = await tlsSessionOf(t.tlsPort);
    const c = await RawClient.connectTls(t.tlsPort, 'localhost', { session });
    assert.equal(c.tlsSocket!.isSessionReused(), true);
    c.send(NS_HEADER('localhost'));
    await c.waitStanza((e) => e.local === 'features');
    const unique = await scram(c, 'SCRAM-SHA-256-PLUS', { type: 'tls-unique', data: c.tlsSocket!.getFinished()! });
    assert.equal(unique.local, 'failure');
    assert.match(unique.getChildText('text') ?? '', /tls-unique is not available/);
    c.destroy();
  });

  it("refuses 'y' while -PLUS is offered, even after a failed attempt at a binding we lack", async () => {
    // What slixmpp 1.8.3 does, and what a man in the middle could do on its behalf: p=tls-unique, then 'y'.
    const { c } = await open(t.tlsPort);
    assert.equal((await scram(c, 'SCRAM-SHA-256-PLUS', { type: 'tls-unique', data: Buffer.alloc(12) })).local, 'failure');
    const y = await scram(c, 'SCRAM-SHA-256', 'y');
    assert.equal(y.local, 'failure');
    assert.match(y.getChildText('text') ?? '', /downgrade/);
    assert.equal(t.server.authThrottle.size, 0);
    c.destroy();
  });
});

describe("the 'y' flag (RFC 5802 §6)", () => {
  const creds = deriveCredentials('pencil', 4096);
  const base = { domain: 'example.com', lockedOut: () => false, secret: Buffer.alloc(32, 7), lookup: async () => creds, channelBinding: () => Buffer.alloc(32, 1) };
  const first = (ctx: Parameters<ReturnType<typeof scramMechanism>['start']>[0]) =>
    scramMechanism('SHA-256').start(ctx).step(Buffer.from(new ScramClient('sha256', 'user', 'pencil', 'y').first()));

  it('is accepted over TLS when no -PLUS mechanism is offered (an operator list without them)', async () => {
    const step = await first({ ...base, channelBindingTypes: ['tls-exporter'], offeredMechanisms: ['SCRAM-SHA-256', 'PLAIN'] });
    assert.equal(step.kind, 'challenge');
  });

  it('is refused as a downgrade when one is', async () => {
    const step = await first({ ...base, channelBindingTypes: ['tls-exporter'], offeredMechanisms: ['SCRAM-SHA-1-PLUS', 'SCRAM-SHA-256', 'PLAIN'] });
    assert.equal(step.kind, 'failure');
    assert.equal(step.kind === 'failure' && step.badCredentials, undefined, 'a negotiation error, not a password failure');
  });
});
