// Certificate authentication with a real Prosody 0.12: both servers hold certificates from one test CA and
// require valid certificates (s2s_secure_auth = true on Prosody, s2s.secure_auth on pepkeys), so each
// direction runs SASL EXTERNAL (XEP-0178), no dialback. Then a Prosody whose certificate pepkeys cannot
// verify is refused by pepkeys' secure_auth, and its user's message bounces.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { skipProsody, type ProsodyServer } from '../helpers/prosody.ts';
import { createTestCa, type TestCa } from '../helpers/test-ca.ts';
import { logged, startWithProsody } from '../helpers/cert-federation.ts';

type Fixture = Awaited<ReturnType<typeof startWithProsody>>;

const skip = skipProsody() && 'prosody not installed and PEPKEYS_SKIP_PROSODY=1';
const withLog = (p: ProsodyServer) => (err: unknown) => {
  throw new Error(`${(err as Error).message}\nprosody log:\n${p.log().slice(-3000)}`);
};

describe('federation with Prosody by certificate (SASL EXTERNAL both ways, secure_auth on both)', { skip }, () => {
  let ca: TestCa;
  let f: Fixture;

  before(async () => {
    ca = await createTestCa();
    const mon = await ca.issue({ dns: ['montague.lit'] });
    f = await startWithProsody(
      { tls: await ca.issue({ dns: ['capulet.lit'] }), s2s: { trusted_certs: [ca.file], secure_auth: true } },
      { secureAuth: true, tls: { cert: mon.cert, key: mon.key, cafile: ca.file } },
    );
  });
  after(async () => {
    await f?.stop();
    ca?.cleanup();
  });

  it('pepkeys → Prosody: pepkeys authenticates with EXTERNAL and Prosody accepts its certificate', async () => {
    const { cap, p, juliet, romeo } = f;
    juliet.send(`<message to='romeo@montague.lit/orchard' type='chat' id='c-out'><body>O Romeo</body></message>`);
    const m = await romeo.waitStanza((e) => e.name === 'message' && e.attrs.id === 'c-out', 15_000).catch(withLog(p));
    assert.equal(m.attrs.from, 'juliet@capulet.lit/balcony');
    assert.equal(logged(cap.log, 'authenticated to remote server', { remote: 'montague.lit', method: 'certificate' }).length, 1);
    assert.match(p.log(), /Accepting SASL EXTERNAL identity from capulet\.lit/);
  });

  it('Prosody → pepkeys: Prosody authenticates with EXTERNAL and pepkeys accepts its certificate', async () => {
    const { cap, p, juliet, romeo } = f;
    romeo.send(`<message to='juliet@capulet.lit/balcony' type='chat' id='c-in'><body>Lady</body></message>`);
    const m = await juliet.waitStanza((e) => e.name === 'message' && e.attrs.id === 'c-in', 15_000).catch(withLog(p));
    assert.equal(m.attrs.from, 'romeo@montague.lit/orchard');
    const allowed = logged(cap.log, 's2s authentication policy: allowed', { direction: 'inbound', remote: 'montague.lit', method: 'certificate' });
    assert.match(String(allowed[0]?.reason), /SASL EXTERNAL: trusted certificate, DNS-ID montague\.lit/);
    assert.equal(logged(cap.log, 'remote domain authenticated', { method: 'dialback' }).length, 0, 'no dialback');
  });
});

describe('Prosody with a certificate pepkeys cannot verify, against s2s.secure_auth', { skip }, () => {
  let ca: TestCa;
  let f: Fixture;

  before(async () => {
    ca = await createTestCa();
    // Prosody keeps its self-signed certificate and does dialback.
    f = await startWithProsody({ tls: await ca.issue({ dns: ['capulet.lit'] }), s2s: { trusted_certs: [ca.file], secure_auth: true } }, {});
  });
  after(async () => {
    await f?.stop();
    ca?.cleanup();
  });

  it('refuses its dialback (not-authorized) and bounces what Juliet sends to it', async () => {
    const { cap, p, juliet, romeo } = f;
    romeo.send(`<message to='juliet@capulet.lit/balcony' type='chat' id='r-in'><body>let me in</body></message>`);
    juliet.send(`<message to='romeo@montague.lit/orchard' type='chat' id='r-out'><body>who goes</body></message>`);
    const b = await juliet.waitStanza((e) => e.attrs.id === 'r-out' && e.attrs.type === 'error', 15_000);
    assert.ok(b.getChild('error')?.getChild('remote-server-not-found'), b.toString());
    assert.ok(logged(cap.log, 's2s authentication policy: refused', { direction: 'outbound', remote: 'montague.lit', condition: 'not-authorized' }).length >= 1);
    // Prosody's own attempt: refused with the dialback error, never delivered.
    const inbound = () => logged(cap.log, 's2s authentication policy: refused', { direction: 'inbound', remote: 'montague.lit' });
    const deadline = Date.now() + 15_000;
    while (!inbound().length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(inbound()[0]?.condition, 'not-authorized', p.log().slice(-2000));
    assert.ok(!juliet.stanzas.some((e) => e.attrs.id === 'r-in'));
  });
});
