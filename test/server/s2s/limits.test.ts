// Limits on server-to-server streams against hostile or slow peers, each with a sentinel client of the local
// server that must be unaffected: connections per IP address, streams per remote domain, a stanza flood
// (slowed down, nothing lost), and a peer that stops reading (our output is bounded: stanzas wait in the
// link's bounded queue, then bounce with resource-constraint; none is dropped silently).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { TLSSocket, createSecureContext } from 'node:tls';
import { rawSessions, testTls, type TestServer } from '../../helpers/server.ts';
import { startFederatedPair } from '../../helpers/federation.ts';
import { RawClient } from '../../helpers/raw-client.ts';
import { until } from '../../helpers/until.ts';
import { StreamParser, type Element } from '../../../src/xml/index.ts';

const NS_STREAMS = 'urn:ietf:params:xml:ns:xmpp-streams';
const STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const header = (from: string, to: string) =>
  `<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' from='${from}' to='${to}' version='1.0'>`;
const streamError = async (c: RawClient): Promise<string | undefined> => {
  const e: Element = await c.waitStanza((el) => el.local === 'error' && el.ns === 'http://etherx.jabber.org/streams', 10_000);
  return e.elements.find((c) => c.ns === NS_STREAMS && c.local !== 'text')?.local;
};
const condition = (el: Element) => el.getChild('error')?.elements.find((e) => e.ns === STANZAS && e.local !== 'text')?.local;

/**
 * A remote "server" for slow.lit that negotiates (STARTTLS, accepts our dialback without checking) and then
 * stops reading: what the local server writes to it piles up on its side only as far as the limits allow.
 */
async function startSlowPeer(): Promise<{ port: number; authenticated: Promise<void>; stop(): void }> {
  const tls = await testTls();
  const sockets: Socket[] = [];
  let authed!: () => void;
  const authenticated = new Promise<void>((r) => (authed = r));
  const server: Server = createServer((plain) => {
    sockets.push(plain);
    let socket: Socket = plain;
    const hdr = `<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' from='slow.lit' id='slow${sockets.length}' version='1.0'>`;
    let parser: StreamParser;
    const makeParser = () => new StreamParser({
      streamStart: () => {
        socket.write(hdr);
        socket.write(socket === plain
          ? `<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>`
          : `<stream:features><dialback xmlns='urn:xmpp:features:dialback'/></stream:features>`);
      },
      stanza: (el) => {
        if (el.local === 'starttls') {
          plain.removeAllListeners('data');
          plain.write(`<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`);
          socket = new TLSSocket(plain, { isServer: true, secureContext: createSecureContext(tls) });
          sockets.push(socket);
          parser = makeParser();
          socket.on('data', (d) => parser.write(d));
          socket.on('error', () => {});
        } else if (el.local === 'result') {
          socket.write(`<db:result from='slow.lit' to='${el.attrs.from}' type='valid'/>`);
          // From now on nothing is read: the kernel buffers fill, then our peer's output backs up.
          socket.pause();
          plain.pause();
          authed();
        }
      },
      streamEnd: () => {},
      error: () => {},
    });
    parser = makeParser();
    plain.on('data', (d) => parser.write(d));
    plain.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    authenticated,
    stop() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

// Room for the later tests' streams from 127.0.0.1: two raw peers, the real montague.lit server's link and
// its verification connections.
const PER_IP = 5;

describe('limits on server-to-server streams', () => {
  let cap: TestServer;
  let mon: TestServer;
  let stop: () => Promise<void>;
  const capUsers = rawSessions(() => cap);
  let juliet: RawClient;
  /** A session that takes no part in any hostile exchange. */
  let sentinel: RawClient;
  const peers: RawClient[] = [];

  async function peer(from = 'montague.lit', to = 'capulet.lit'): Promise<{ c: RawClient; id: string }> {
    const c = await RawClient.connect(cap.s2sPort);
    peers.push(c);
    c.send(header(from, to));
    await c.waitStanza((e) => e.local === 'features');
    await c.starttls(to);
    c.send(header(from, to));
    await c.waitStanza((e) => e.local === 'features');
    return { c, id: c.headers.at(-1)!.attrs.id! };
  }
  const sentinelOk = async () => {
    const ping = await sentinel.iq(`<iq type='get' to='capulet.lit'><ping xmlns='urn:xmpp:ping'/></iq>`);
    assert.equal(ping.attrs.type, 'result');
  };

  before(async () => {
    ({ cap, mon, stop } = await startFederatedPair({ 'juliet@capulet.lit': 'pw' }, { 'romeo@montague.lit': 'pw' }, {
      max_inbound_per_ip: PER_IP, max_streams_per_domain: 2, stanza_rate: 20, stanza_burst: 5, max_queue: 10, output_pause_bytes: 16 * 1024,
    }, { limits: { bytes_per_second: 0 } }));
    juliet = await capUsers.login('juliet', 'balcony', 'pw', 'capulet.lit');
    sentinel = await capUsers.login('juliet', 'sentinel', 'pw', 'capulet.lit');
  });
  after(async () => {
    for (const p of peers) p.destroy();
    capUsers.destroyAll();
    await stop?.();
  });

  it('refuses connections from one address beyond max_inbound_per_ip (policy-violation)', async () => {
    const held: RawClient[] = [];
    for (let i = 0; i < PER_IP; i++) {
      const c = await RawClient.connect(cap.s2sPort);
      peers.push(c);
      held.push(c);
    }
    // The listener counts them once accepted: the last is answered only after the others were.
    held[PER_IP - 1]!.send(header('montague.lit', 'capulet.lit'));
    await held[PER_IP - 1]!.waitStanza((e) => e.local === 'features');
    const extra = await RawClient.connect(cap.s2sPort);
    peers.push(extra);
    assert.equal(await streamError(extra), 'policy-violation');
    await sentinelOk();
    for (const c of held) c.destroy();
    await Promise.all(held.map((c) => c.closed));
    // The next tests count streams per address and per domain: these must be gone first (a bounded wait that
    // fails loudly; 2 s without a check was too short on a loaded CI machine).
    await until(() => cap.server.s2s!.status().inbound.length === 0, 'the held streams to close');
  });

  it('refuses a domain a stream beyond max_streams_per_domain, with a dialback error', async () => {
    // The real montague.lit server may hold a stream of its own here too: verifying our peers' dialback keys
    // makes capulet.lit link to it, and it links back to verify capulet.lit's key. So open streams claiming
    // montague.lit until one is refused, and check the refusal came exactly at the limit (2).
    const montagueStreams = () => cap.server.s2s!.status().inbound.filter((s) => s.domains.includes('montague.lit')).length;
    const accepted: RawClient[] = [];
    let refused: { c: RawClient; r: Element; counted: number } | undefined;
    for (let i = 0; i < 3 && !refused; i++) {
      const p = await peer();
      p.c.send(`<db:result from='montague.lit' to='capulet.lit'>${mon.server.s2s!.keys.generate('capulet.lit', 'montague.lit', p.id)}</db:result>`);
      const r = await p.c.waitStanza((e) => e.local === 'result');
      if (r.attrs.type === 'valid') accepted.push(p.c);
      else refused = { c: p.c, r, counted: montagueStreams() };
    }
    assert.ok(refused, 'a stream beyond the limit is refused');
    assert.equal(refused.r.attrs.type, 'error');
    assert.ok(refused.r.getChild('error')?.getChild('policy-violation', STANZAS));
    assert.equal(refused.counted, 2, 'refused when montague.lit already had max_streams_per_domain streams');
    assert.ok(accepted.length >= 1, 'streams up to the limit are accepted');
    // Nothing is accepted on it: montague.lit is not authenticated there.
    refused.c.send(`<message from='romeo@montague.lit/orchard' to='juliet@capulet.lit/balcony' id='no'><body>x</body></message>`);
    assert.equal(await streamError(refused.c), 'invalid-from');
    await sentinelOk();
    for (const c of accepted) c.destroy();
    await Promise.all(accepted.map((c) => c.closed));
    // What is left is at most the real server's own stream, so the next test's peer fits under the limit.
    await until(() => montagueStreams() <= 1, "our montague.lit streams to close");
  });

  it('slows a flooding peer down to stanza_rate without losing a stanza', async () => {
    const { c, id } = await peer();
    c.send(`<db:result from='montague.lit' to='capulet.lit'>${mon.server.s2s!.keys.generate('capulet.lit', 'montague.lit', id)}</db:result>`);
    assert.equal((await c.waitStanza((e) => e.local === 'result')).attrs.type, 'valid');
    const n = 40;
    c.send(Array.from({ length: n }, (_, i) => `<message from='romeo@montague.lit/orchard' to='juliet@capulet.lit/balcony' id='f${i}' type='chat'><body>${i}</body></message>`).join(''));
    await sentinelOk();
    const last = await juliet.waitStanza((e) => e.attrs.id === `f${n - 1}`, 20_000);
    // waitStanza takes the stanza it returns out of the list.
    const got = [...juliet.stanzas.filter((e) => e.name === 'message' && e.attrs.id?.startsWith('f')).map((e) => e.attrs.id), last.attrs.id];
    assert.deepEqual(got, Array.from({ length: n }, (_, i) => `f${i}`), 'every stanza, in order');
    // (The real montague.lit server's own stream may be listed beside ours; ours is the one throttled.)
    const throttled = cap.server.s2s!.status().inbound.filter((s) => s.domains.includes('montague.lit') && s.throttled > 0);
    assert.equal(throttled.length, 1, 'reading was held back by the rate');
    c.destroy();
  });

  it('bounds what waits for a peer that stops reading, and bounces the rest with resource-constraint', async () => {
    const slow = await startSlowPeer();
    try {
      cap.server.s2s!.routes['slow.lit'] = `127.0.0.1:${slow.port}`;
      const big = 'x'.repeat(32 * 1024);
      juliet.send(`<message to='someone@slow.lit' id='s0'><body>${big}</body></message>`);
      await slow.authenticated;
      const n = 300;
      for (let i = 1; i <= n; i++) juliet.send(`<message to='someone@slow.lit' id='s${i}'><body>${big}</body></message>`);
      // 300 × 32 KiB is far more than the kernel buffers, the 16 KiB output threshold and a 10-stanza queue hold.
      const bounce = await juliet.waitStanza((e) => e.name === 'message' && e.attrs.type === 'error' && e.attrs.id?.startsWith('s') === true, 20_000);
      assert.equal(condition(bounce), 'resource-constraint');
      assert.match(bounce.getChild('error')!.getChildText('text') ?? '', /slow\.lit reads too slowly/);
      const link = cap.server.s2s!.status().outbound.find((l) => l.remote === 'slow.lit')!;
      assert.ok(link.queued <= 10, `queue bounded (${link.queued})`);
      await sentinelOk();
    } finally {
      slow.stop();
    }
  });
});
