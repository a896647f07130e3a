// Issue 19 finding 1: pre-authentication memory exhaustion. Unauthenticated connections send a failing
// <auth/> (whose answer the auth throttle delays), then stream many small elements. Before the fix every
// element was parsed into objects (~40 bytes of heap per input byte) and queued behind the delayed answer
// without bound: six connections took the server to a 4 GB heap. Now the session stops reading while its
// queue is non-empty (RFC 6120 §13.12), a pre-auth stanza is small, and a queue of negotiation elements
// beyond a handful closes the stream with policy-violation.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { RawClient, NS_HEADER } from '../../helpers/raw-client.ts';
import { HeapProbe, MiB, mib, streamErrorOf } from './helpers.ts';

const SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
const CONNECTIONS = 4;
const BYTES_PER_CONNECTION = 2 * MiB;

/** Many small <abort/> elements full of tiny children: cheap to send, costly to hold as objects. */
function flood(bytes: number, elementBytes: number): Buffer {
  const one = `<abort xmlns='${SASL}'>${'<a/>'.repeat(Math.floor((elementBytes - 60) / 4))}</abort>`;
  return Buffer.from(one.repeat(Math.ceil(bytes / one.length)));
}

describe('finding 1: pre-auth memory exhaustion', () => {
  let t: TestServer;
  const clients: RawClient[] = [];

  // A fresh server per case: the auth throttle's delays grow with the failures of an address.
  beforeEach(async () => {
    // A slow failure answer (the throttle's delay: 2, 2, 4, 8 s here) is what kept the queue from draining.
    t = await startTestServer({ users: { 'juliet@localhost': 'pw' }, config: { limits: { auth_failure_delay_ms: 2000 } } });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await t.stop();
  });

  async function attacker(elementBytes: number): Promise<RawClient> {
    const c = await RawClient.connect(t.port);
    clients.push(c);
    c.send(NS_HEADER('localhost'));
    await c.waitStanza((e) => e.local === 'features');
    c.send(`<auth xmlns='${SASL}' mechanism='PLAIN'>${Buffer.from('\0juliet\0wrong').toString('base64')}</auth>`);
    c.send(flood(BYTES_PER_CONNECTION, elementBytes));
    return c;
  }

  for (const [what, elementBytes] of [['elements of 1 KiB', 1024], ['elements of 4 KiB', 4096], ['elements of 200 KiB', 200 * 1024]] as const) {
    it(`bounds the heap and closes with policy-violation: ${CONNECTIONS} connections × ${mib(BYTES_PER_CONNECTION)} of ${what}`, async (tc) => {
      const probe = new HeapProbe();
      probe.start();
      const conns = await Promise.all(Array.from({ length: CONNECTIONS }, () => attacker(elementBytes)));
      // Each stream is read no further than its pending <auth/> until that is answered (after the throttle's
      // delay); then the next read shows the flood and closes it.
      const conditions = await Promise.all(conns.map((c) => streamErrorOf(c, 15_000).catch(() => 'not closed')));
      await Promise.all(conns.map((c) => c.waitClosed(5000).catch(() => undefined)));
      const { peak, after } = probe.stop();
      tc.diagnostic(`server heap growth: peak ${mib(peak)}, after gc ${mib(after)}; conditions ${conditions.join(', ')}`);
      assert.deepEqual(conditions, conns.map(() => 'policy-violation'));
      assert.ok(peak < 48 * MiB, `heap grew by ${mib(peak)} at its peak`);
      // A well-behaved client still logs in afterwards.
      const ok = await RawClient.connect(t.port);
      clients.push(ok);
      assert.match(await ok.login('juliet@localhost', 'pw'), /^juliet@localhost\//);
    });
  }
});
