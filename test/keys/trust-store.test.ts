// Trust store behaviour (TOFU, key change reporting, verification, revocation, expiry), run against the memory
// backend and the SQLite backend, plus SQLite persistence and file permissions.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  TrustStore, MemoryTrustBackend, SqliteTrustBackend, observedFromPubkey, observedFromKeyInfo, observedFromOpenPgp,
  createPubkey, createRevocation, signerFromPubkey, verifierFromPubkey, keyInfoFromPublicKey, importOpenPgpPublicKey,
  KeyError, type TrustBackend, type TrustEvent,
} from '../../src/keys/index.ts';
import { edPrivate, edPublic, fixtureText, rsaPrivate, rsaPublic, vectors as v } from './helpers.ts';

const window = { begin: new Date(v.begin), end: new Date(v.end) };
const rsaPk = createPubkey({ version: 1, publicKey: rsaPublic(), jid: v.jid, ...window });
const edPk = createPubkey({ version: 1, publicKey: edPublic(), jid: v.jid, ...window });
const rsaObs = observedFromPubkey(rsaPk);
const edObs = observedFromPubkey(edPk);

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'pepkeys-trust-'));
  dirs.push(d);
  return d;
}
process.on('exit', () => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const backends: [string, () => TrustBackend][] = [
  ['memory', () => new MemoryTrustBackend()],
  ['sqlite', () => new SqliteTrustBackend(join(tmp(), 'trust.db'))],
];

for (const [name, make] of backends) {
  describe(`TrustStore on ${name}`, () => {
    function store(now = new Date('2025-01-01T00:00:00Z'), events: TrustEvent[] = []) {
      let t = now;
      const s = new TrustStore(make(), { now: () => t, onEvent: (e) => events.push(e) });
      return { s, events, setNow: (d: Date) => (t = d) };
    }

    test('first key is new and unverified; seeing it again is unchanged', async () => {
      const { s, events } = store();
      const first = await s.observe('Juliet@Capulet.lit/balcony', rsaObs);
      assert.equal(first.kind, 'new');
      assert.equal(first.jid, 'juliet@capulet.lit');
      assert.equal(first.record.effective, 'unverified');
      assert.equal(first.record.print, `sha-256:${v.v1Print}`);
      assert.equal(first.record.key, v.rsaSpki);
      const again = await s.observe('juliet@capulet.lit', rsaObs);
      assert.equal(again.kind, 'unchanged');
      assert.deepEqual(events.map((e) => e.type), ['key-new']);
      await s.close();
    });

    test('a different key for a known contact is reported as changed, never silently replacing', async () => {
      const { s, events } = store();
      await s.observe(v.jid, rsaObs);
      await s.verify(v.jid, rsaObs.print);
      const change = await s.observe(v.jid, edObs);
      assert.equal(change.kind, 'changed');
      assert.equal(change.record.effective, 'unverified');
      assert.deepEqual(change.previous.map((p) => [p.print, p.effective]), [[rsaObs.print, 'verified']]);
      assert.deepEqual(events.map((e) => e.type), ['key-new', 'key-verified', 'key-changed']);
      // Both keys are kept: a contact may have several.
      assert.deepEqual((await s.keys(v.jid)).map((k) => k.print), [rsaObs.print, edObs.print]);
      assert.equal((await s.status(v.jid, rsaObs.print))!.effective, 'verified');
      // Another contact's first key is 'new', not a change.
      assert.equal((await s.observe('romeo@montague.lit', edObs)).kind, 'new');
      assert.deepEqual(await s.contacts(), ['juliet@capulet.lit', 'romeo@montague.lit']);
      await s.close();
    });

    test('verify, revoke, and refusing to verify revoked or unknown keys', async () => {
      const { s } = store();
      await assert.rejects(s.verify(v.jid, rsaObs.print), (e: unknown) => e instanceof KeyError && e.code === 'trust-conflict');
      await s.observe(v.jid, rsaObs);
      assert.equal((await s.verify(v.jid, rsaObs.print)).effective, 'verified');
      assert.equal((await s.assertUsable(v.jid, rsaObs.print, { requireVerified: true })).effective, 'verified');
      assert.equal((await s.revoke(v.jid, rsaObs.print)).effective, 'revoked');
      await assert.rejects(s.verify(v.jid, rsaObs.print), (e: unknown) => e instanceof KeyError && e.code === 'key-revoked');
      await assert.rejects(s.assertUsable(v.jid, rsaObs.print), (e: unknown) => e instanceof KeyError && e.code === 'key-revoked');
      // Seeing a revoked key again does not resurrect it.
      const again = await s.observe(v.jid, rsaObs);
      assert.equal(again.kind, 'unchanged');
      assert.equal(again.record.effective, 'revoked');
      await s.close();
    });

    test('expiry and not-yet-valid come from the key window and the clock', async () => {
      const { s, setNow } = store(new Date('2023-06-01T00:00:00Z'));
      const r = await s.observe(v.jid, rsaObs);
      assert.equal(r.record.effective, 'not-yet-valid');
      await assert.rejects(s.assertUsable(v.jid, rsaObs.print), (e: unknown) => e instanceof KeyError && e.code === 'key-not-yet-valid');
      setNow(new Date('2030-01-01T00:00:00Z'));
      await s.verify(v.jid, rsaObs.print);
      assert.equal((await s.assertUsable(v.jid, rsaObs.print)).effective, 'verified');
      setNow(new Date('2034-01-01T00:00:01Z'));
      assert.equal((await s.status(v.jid, rsaObs.print))!.effective, 'expired');
      await assert.rejects(s.assertUsable(v.jid, rsaObs.print), (e: unknown) => e instanceof KeyError && e.code === 'key-expired');
      await s.close();
    });

    test('applyRevocation marks the key only when the revocation checks out', async () => {
      const { s } = store(new Date('2025-07-01T00:00:00Z'));
      await s.observe(v.jid, rsaObs);
      await s.observe(v.jid, edObs);
      const rev = await createRevocation({ version: 1, revoked: rsaPk, signer: signerFromPubkey(edPk, edPrivate()), time: new Date(v.revocationTime) });
      const forged = { ...rev, revocationtime: '2025-06-01T12:00:01Z' };
      const bad = await s.applyRevocation(v.jid, forged, { signer: verifierFromPubkey(edPk) });
      assert.equal(bad.ok, false);
      assert.equal((await s.status(v.jid, rsaObs.print))!.effective, 'unverified');
      const wrongSigner = await s.applyRevocation(v.jid, rev, { signer: verifierFromPubkey(rsaPk) });
      assert.equal(!wrongSigner.ok && wrongSigner.code, 'print-mismatch');
      const good = await s.applyRevocation(v.jid, rev, { signer: verifierFromPubkey(edPk) });
      assert.equal(good.ok, true);
      const st = (await s.status(v.jid, rsaObs.print))!;
      assert.equal(st.effective, 'revoked');
      assert.equal(st.revokedAt, Date.parse(v.revocationTime));
      assert.equal((await s.status(v.jid, edObs.print))!.effective, 'unverified');
      await s.close();
    });

    test('KeyInfo and OpenPGP keys are tracked by their own prints; forget removes', async () => {
      const { s } = store();
      const ki = observedFromKeyInfo(keyInfoFromPublicKey(rsaPublic()));
      assert.equal(ki.print, `sha-256:${v.keyValuePrint}`);
      const pgp = observedFromOpenPgp((await importOpenPgpPublicKey(fixtureText('openpgp-romeo.pub.asc'))).key);
      assert.equal(pgp.print, `sha-256:${fixtureText('openpgp-romeo.print').trim()}`);
      assert.equal((await s.observe('romeo@montague.lit', pgp)).kind, 'new');
      assert.equal((await s.observe('romeo@montague.lit', ki)).kind, 'changed');
      assert.equal(await s.forget('romeo@montague.lit', pgp.print), true);
      assert.equal((await s.keys('romeo@montague.lit')).length, 1);
      await s.close();
    });
  });
}

test('SQLite trust store persists across reopen; file 0600 in a 0700 directory', async () => {
  const dir = join(tmp(), 'home', '.pepkeys');
  const path = join(dir, 'trust.db');
  const now = () => new Date('2025-01-01T00:00:00Z');
  const a = new TrustStore(new SqliteTrustBackend(path), { now });
  await a.observe(v.jid, rsaObs);
  await a.verify(v.jid, rsaObs.print);
  await a.observe(v.jid, edObs);
  await a.close();
  if (process.platform !== 'win32') {
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
  }
  const b = new TrustStore(new SqliteTrustBackend(path), { now });
  const keys = await b.keys(v.jid);
  assert.deepEqual(keys.map((k) => [k.print, k.effective, k.format]), [[rsaObs.print, 'verified', 'pubkey:1'], [edObs.print, 'unverified', 'pubkey:1']]);
  assert.equal(keys[0]!.notAfter, Date.parse(v.end));
  assert.equal(keys[0]!.payload, rsaObs.payload);
  assert.equal((await b.observe(v.jid, rsaObs)).kind, 'unchanged');
  await b.close();
});
