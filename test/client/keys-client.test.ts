// KeysClient behaviour that the CLI story does not reach: a server without PEP is reported in plain words with
// a stable code; <generating/> reaches contacts; direct requests without a policy are refused with
// service-unavailable; keys claiming another JID and revocations by unknown keys are never applied.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { befriend } from '../helpers/roster-setup.ts';
import { XmppClient, KeysClient, KeyOpError, IqError, type InvalidEvent, type RevocationEvent } from '../../src/client/index.ts';
import {
  TrustStore, MemoryTrustBackend, generateKeyPair, createPubkey, createRevocation, signerFromPubkey, buildPubkey, buildRevocation,
} from '../../src/keys/index.ts';
import { defaultModules } from '../../src/server/modules/index.ts';
import { x } from '../../src/xml/index.ts';

const users = { 'juliet@capulet.lit': 'juliet-pw', 'romeo@montague.lit': 'romeo-pw' };

describe('KeysClient against our server', () => {
  let t: TestServer;
  let noPep: TestServer;
  const open: XmppClient[] = [];
  const connect = async (srv: TestServer, jid: keyof typeof users, resource: string) => {
    const c = await XmppClient.connect({ jid, password: users[jid], host: '127.0.0.1', port: srv.port, resource, tls: { rejectUnauthorized: false } });
    open.push(c);
    return c;
  };
  const memTrust = () => new TrustStore(new MemoryTrustBackend());

  before(async () => {
    t = await startTestServer({ hosts: ['capulet.lit', 'montague.lit'], insecure: false, users });
    noPep = await startTestServer({ hosts: ['capulet.lit', 'montague.lit'], insecure: false, users, modules: defaultModules().filter((m) => m.name !== 'pep' && !m.requires?.includes('pep')) });
    await befriend({ host: '127.0.0.1', port: t.port, tls: { rejectUnauthorized: false } }, { jid: 'juliet@capulet.lit', password: users['juliet@capulet.lit'] }, { jid: 'romeo@montague.lit', password: users['romeo@montague.lit'] }, ['Friends'], []);
  });
  after(async () => {
    for (const c of open) await c.close();
    await t.stop();
    await noPep.stop();
  });

  it('says clearly when the server has no PEP, with a stable code, and refuses to publish', async () => {
    const c = await connect(noPep, 'juliet@capulet.lit', 'nopep');
    const keys = new KeysClient(c, { trust: memTrust() });
    const s = await keys.checkPepSupport();
    assert.equal(s.pep, false);
    assert.equal(s.problem?.code, 'no-pep');
    assert.match(s.problem!.message, /does not offer a PEP service/);
    const pair = await generateKeyPair({ type: 'ed25519' });
    const pk = createPubkey({ publicKey: pair.publicKey, jid: 'juliet@capulet.lit', begin: new Date(), end: new Date(Date.now() + 864e5) });
    await assert.rejects(keys.publishKey(pk, { accessModel: 'presence' }), (e: KeyOpError) => e.code === 'no-pep' && e.kind === 'unsupported' && /PEP/.test(e.message));
  });

  it('shows <generating/> to contacts while generating; refuses direct requests without a policy', async () => {
    const jc = await connect(t, 'juliet@capulet.lit', 'gen');
    const rc = await connect(t, 'romeo@montague.lit', 'gen');
    const juliet = new KeysClient(jc, { trust: memTrust() });
    const romeo = new KeysClient(rc, { trust: memTrust() });
    await romeo.onlineAndReady();
    const seen = new Promise<{ jid: string; generating: boolean }>((r) => romeo.on('generating', (g) => g.generating && r(g)));
    juliet.announceGenerating(true);
    assert.deepEqual(await seen, { jid: 'juliet@capulet.lit/gen', generating: true });
    const cleared = new Promise<{ jid: string; generating: boolean }>((r) => romeo.on('generating', (g) => !g.generating && r(g)));
    juliet.announceGenerating(false);
    assert.equal((await cleared).generating, false);
    // No directAccess policy: refused, without revealing anything.
    await assert.rejects(romeo.requestDirect('juliet@capulet.lit/gen'), (e: IqError) => e.condition === 'service-unavailable');
    // Juliet's caps advertise the key namespaces and +notify.
    const features = jc.caps.features;
    for (const f of ['urn:xmpp:pubkey:2', 'urn:xmpp:pubkey:2+notify', 'urn:xmpp:revoke:2+notify', 'urn:xmpp:attest:2+notify', 'urn:xmpp:pubkey:1']) assert.ok(features.includes(f), f);
  });

  it('never applies a key that names another JID, nor a revocation signed by an unknown key', async () => {
    const jc = await connect(t, 'juliet@capulet.lit', 'evil');
    const rc = await connect(t, 'romeo@montague.lit', 'check');
    const trust = memTrust();
    const romeo = new KeysClient(rc, { trust });
    const pair = await generateKeyPair({ type: 'ed25519' });
    const forged = createPubkey({ publicKey: pair.publicKey, jid: 'mercutio@montague.lit', begin: new Date(), end: new Date(Date.now() + 864e5) });
    const invalid = new Promise<InvalidEvent>((r) => romeo.once('invalid', r));
    jc.send(x('message', { to: rc.jid.full }, buildPubkey(forged)));
    assert.match((await invalid).reason, /claims to belong to mercutio@montague.lit/);
    assert.deepEqual(await trust.keys('juliet@capulet.lit'), []);
    assert.deepEqual(await trust.keys('mercutio@montague.lit'), []);
    // A revocation of a key Romeo never saw, signed by that key: no known signer, so nothing is revoked.
    const own = createPubkey({ publicKey: pair.publicKey, jid: 'juliet@capulet.lit', begin: new Date(Date.now() - 1000), end: new Date(Date.now() + 864e5) });
    const rev = await createRevocation({ revoked: own, signer: signerFromPubkey(own, pair.privateKey) });
    const got = new Promise<RevocationEvent>((r) => romeo.once('revocation', r));
    jc.send(x('message', { to: rc.jid.full }, buildRevocation(rev)));
    const ev = await got;
    assert.equal(ev.outcome.ok, false);
    assert.deepEqual(await trust.keys('juliet@capulet.lit'), []);
  });
});
