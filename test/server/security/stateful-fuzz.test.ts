// Issue 19, "the fuzz suite gains a stateful mode": random sequences of valid and invalid stanzas from two
// hostile accounts, against honest sessions of three users on the same server, with the invariants checked
// after every step:
//  - the honest sessions stay connected and answer a ping;
//  - everything they have received is namespace-well-formed (their whole stream re-parses strictly, with the
//    stream header's declarations only: an unbound prefix anywhere would fail it);
//  - the server's heap stays bounded.
// A hostile session that loses its stream for what it sent logs in again, so sequences go on.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { RawClient } from '../../helpers/raw-client.ts';
import { exposeGc } from '../../helpers/hostile-corpus.ts';
import { StreamParser, type XmlStreamError } from '../../../src/xml/index.ts';

const PUBSUB = 'http://jabber.org/protocol/pubsub';
const HONEST = ['alice', 'bob', 'carol'] as const;
const HOSTILE = ['mallory', 'trudy'] as const;
const DECLS = " xmlns:k='urn:x' xmlns:p='urn:p'";
const OPEN = `<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>${PUBSUB}#publish-options</value></field><field var='pubsub#access_model'><value>open</value></field></x></publish-options>`;

/** Every byte a stream received re-parses without an error (after the last stream restart). */
function wellFormed(text: string): XmlStreamError | undefined {
  // Only the stream after the SASL restart: the first header is answered by a second one.
  const start = text.lastIndexOf('<?xml');
  let error: XmlStreamError | undefined;
  const p = new StreamParser({ streamStart() {}, stanza() {}, streamEnd() {}, error: (e) => (error ??= e) }, { maxStanzaSize: 1 << 30 });
  p.writeString(text.slice(start < 0 ? 0 : start));
  return error;
}

const target = fc.constantFrom(...HONEST).map((u) => `${u}@localhost`);
const payload = fc.constantFrom(
  '<body>hi</body>', '<k:x/>', "<k:x k:a='1'><p:y/></k:x>", "<x xmlns='urn:other'><k:y/></x>", "<body xml:lang='en'>é 𝄞</body>",
  "<p:q xmlns:p='urn:inner'/>", '',
);
const stanza = fc.oneof(
  fc.tuple(target, payload).map(([to, p]) => `<message to='${to}' type='chat'>${p}</message>`),
  fc.tuple(target, payload).map(([to, p]) => `<presence to='${to}' type='subscribe'>${p}</presence>`),
  fc.tuple(target, payload).map(([to, p]) => `<presence to='${to}'>${p}</presence>`),
  payload.map((p) => `<presence>${p}</presence>`),
  fc.tuple(fc.constantFrom('urn:test:open', 'urn:xmpp:pubkey:2'), payload).map(([node, p]) =>
    `<iq type='set' id='p'><pubsub xmlns='${PUBSUB}'><publish node='${node}'><item>${p || '<v xmlns="urn:v"/>'}</item></publish>${OPEN}</pubsub></iq>`),
  target.map((to) => `<iq type='get' id='i' to='${to}'><pubsub xmlns='${PUBSUB}'><items node='urn:test:open'/></pubsub></iq>`),
  target.map((to) => `<iq type='get' id='u' to='${to}'><unknown xmlns='urn:nobody'/></iq>`),
  // Invalid: the stream of the sender ends, nobody else's.
  fc.constantFrom('<message><body>unclosed</message>', '<u:x/>', '<!-- c -->', `<message a='${'a'.repeat(300_000)}'/>`, '<iq type="set"/>'),
);

describe('stateful fuzz: hostile sequences across sessions', () => {
  let t: TestServer;
  const honest = new Map<string, RawClient>();
  const hostile = new Map<string, RawClient>();
  const gc = exposeGc();
  const figures = { steps: 0, reconnects: 0, honestReceived: 0 };

  const login = async (user: string, declarations = '') => {
    const c = await RawClient.connect(t.port);
    await c.login(`${user}@localhost`, 'pw', 'fuzz', declarations);
    return c;
  };

  before(async () => {
    t = await startTestServer({
      users: Object.fromEntries([...HONEST, ...HOSTILE].map((u) => [`${u}@localhost`, 'pw'])),
      config: { limits: { max_connections_per_ip: 0, auth_failure_delay_ms: 0 } },
    });
    for (const u of HONEST) {
      const c = await login(u);
      c.send('<presence/>');
      honest.set(u, c);
    }
    for (const u of HOSTILE) hostile.set(u, await login(u, DECLS));
  });
  after(async () => {
    for (const c of [...honest.values(), ...hostile.values()]) c.destroy();
    await t.stop();
  });

  it('keeps honest sessions connected, their streams namespace-well-formed, and the heap bounded', async (tc) => {
    gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    let heapMax = heapBefore;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom(...HOSTILE), stanza), { minLength: 1, maxLength: 12 }), async (steps) => {
        for (const [who, xml] of steps) {
          let c = hostile.get(who)!;
          if (c.isClosed) {
            c = await login(who, DECLS);
            hostile.set(who, c);
            figures.reconnects++;
          }
          c.send(xml);
          figures.steps++;
          for (const [u, h] of honest) {
            const r = await h.iq(`<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
            assert.equal(r.attrs.type, 'result', `${u} lost its stream after ${xml.slice(0, 80)}`);
            assert.equal(h.isClosed, false, u);
            const bad = wellFormed(h.text);
            assert.equal(bad, undefined, `${u} received XML that does not stand on its own after ${xml.slice(0, 80)}: ${bad?.message}`);
            // Subscription requests and chat pile up on the honest side; forget what was checked.
            figures.honestReceived += h.stanzas.splice(0).length;
          }
        }
        gc?.();
        heapMax = Math.max(heapMax, process.memoryUsage().heapUsed);
      }),
      { numRuns: Number(process.env.PEPKEYS_FUZZ_RUNS ?? 25) },
    );
    const growthMb = (heapMax - heapBefore) / 2 ** 20;
    tc.diagnostic(`${figures.steps} hostile stanzas, ${figures.reconnects} reconnects, ${figures.honestReceived} stanzas to honest sessions; heap growth ${growthMb.toFixed(1)} MB`);
    // Generous: what the sessions legitimately hold (stored subscription requests, items, the honest sides'
    // received text in this process) is a few MB; unbounded buffering of the 300 KB stanzas would be more.
    assert.ok(growthMb < 64, `heap grew by ${growthMb.toFixed(1)} MB`);
  });
});
