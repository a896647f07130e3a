// Issue 21: OMEMO devices and OX keys share the trust store with XEP-0189 keys. A change is judged within one
// family: a new OMEMO device is news, the same device with another identity key is a change, a second OX key is a
// change; XEP-0189 change reporting is untouched. Run on both backends, plus the SQLite schema upgrade from 1.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  TrustStore, MemoryTrustBackend, SqliteTrustBackend, observedFromPubkey, observedFromOmemoDevice, observedFromOxKey,
  createPubkey, KeyError, type TrustBackend,
} from '../../src/keys/index.ts';
import { edPublic, rsaPublic, vectors as v } from './helpers.ts';

const window = { begin: new Date(v.begin), end: new Date(v.end) };
const rsaObs = observedFromPubkey(createPubkey({ version: 1, publicKey: rsaPublic(), jid: v.jid, ...window }));
const edObs = observedFromPubkey(createPubkey({ version: 1, publicKey: edPublic(), jid: v.jid, ...window }));
const ik = (fill: number) => Buffer.alloc(32, fill);
const OX_A = '1234567890ABCDEF1234567890ABCDEF12345678';
const OX_B = 'ABCDEF1234567890ABCDEF1234567890ABCDEF12';

const dirs: string[] = [];
process.on('exit', () => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmpDb(): string {
  const d = mkdtempSync(join(tmpdir(), 'pepkeys-trust-families-'));
  dirs.push(d);
  return join(d, 'trust.db');
}

const backends: [string, () => TrustBackend][] = [
  ['memory', () => new MemoryTrustBackend()],
  ['sqlite', () => new SqliteTrustBackend(tmpDb())],
];

for (const [name, make] of backends) {
  describe(`trust store key families (${name})`, () => {
    const now = () => new Date(Date.parse(v.begin) + 1000);

    it('an OMEMO device next to an XEP-0189 key is new, and a second device is new too', async () => {
      const t = new TrustStore(make(), { now });
      assert.equal((await t.observe('juliet@capulet.lit', rsaObs)).kind, 'new');
      const d1 = await t.observe('juliet@capulet.lit', observedFromOmemoDevice('legacy', 1001, ik(1)));
      assert.equal(d1.kind, 'new');
      assert.equal(d1.record.format, 'omemo');
      assert.equal(d1.record.slot, '1001');
      assert.equal(d1.record.print, `omemo:${ik(1).toString('hex')}`);
      assert.equal((await t.observe('juliet@capulet.lit', observedFromOmemoDevice('legacy', 1002, ik(2)))).kind, 'new');
      // The same device id in the other OMEMO generation is another device.
      assert.equal((await t.observe('juliet@capulet.lit', observedFromOmemoDevice('omemo2', 1001, ik(3)))).kind, 'new');
      assert.equal((await t.keys('juliet@capulet.lit')).length, 4);
      await t.close();
    });

    it('a device whose identity key differs is a change, reported against that device only', async () => {
      const t = new TrustStore(make(), { now });
      await t.observe('romeo@montague.lit', observedFromOmemoDevice('legacy', 7, ik(7)));
      await t.observe('romeo@montague.lit', observedFromOmemoDevice('legacy', 8, ik(8)));
      const again = await t.observe('romeo@montague.lit', observedFromOmemoDevice('legacy', 7, ik(7)));
      assert.equal(again.kind, 'unchanged');
      const swapped = await t.observe('romeo@montague.lit', observedFromOmemoDevice('legacy', 7, ik(9)));
      assert.equal(swapped.kind, 'changed');
      assert.deepEqual(swapped.previous.map((p) => p.print), [`omemo:${ik(7).toString('hex')}`]);
      assert.equal(swapped.record.effective, 'unverified');
      await t.close();
    });

    it('a second OX key is a change; an XEP-0189 key change still ignores the other families', async () => {
      const t = new TrustStore(make(), { now });
      assert.equal((await t.observe('nurse@capulet.lit', observedFromOxKey(OX_A))).kind, 'new');
      assert.equal((await t.observe('nurse@capulet.lit', observedFromOmemoDevice('omemo2', 5, ik(5)))).kind, 'new');
      const ox2 = await t.observe('nurse@capulet.lit', observedFromOxKey(OX_B));
      assert.equal(ox2.kind, 'changed');
      assert.deepEqual(ox2.previous.map((p) => p.print), [`openpgp-v4:${OX_A.toLowerCase()}`]);
      assert.equal((await t.observe('nurse@capulet.lit', rsaObs)).kind, 'new');
      const ed = await t.observe('nurse@capulet.lit', edObs);
      assert.equal(ed.kind, 'changed');
      assert.deepEqual(ed.previous.map((p) => p.print), [rsaObs.print]);
      await t.close();
    });

    it('verifies and revokes OMEMO and OX keys like any other', async () => {
      const t = new TrustStore(make(), { now });
      const d = await t.observe('juliet@capulet.lit', observedFromOmemoDevice('legacy', 42, ik(4)));
      assert.equal((await t.verify('juliet@capulet.lit', d.record.print)).effective, 'verified');
      const o = await t.observe('juliet@capulet.lit', observedFromOxKey(OX_A));
      await t.revoke('juliet@capulet.lit', o.record.print);
      await assert.rejects(t.verify('juliet@capulet.lit', o.record.print), KeyError);
      const views = await t.keys('juliet@capulet.lit');
      assert.deepEqual(views.map((x) => [x.format, x.effective]), [['omemo', 'verified'], ['ox', 'revoked']]);
      await t.close();
    });
  });
}

describe('OX fingerprints', () => {
  it('refuses what is not a v4 fingerprint', () => {
    assert.throws(() => observedFromOxKey('1234'), KeyError);
    assert.throws(() => observedFromOxKey(`${OX_A}00`), KeyError);
  });
});

describe('SQLite trust store schema upgrade', () => {
  it('opens a version-1 file, keeps its rows, and stores OMEMO device slots afterwards', async () => {
    const path = tmpDb();
    const db = new Database(path);
    db.exec(`
      CREATE TABLE key_trust (
        jid TEXT NOT NULL, print TEXT NOT NULL, format TEXT NOT NULL, payload TEXT, key TEXT, not_before INTEGER,
        not_after INTEGER, state TEXT NOT NULL CHECK (state IN ('unverified', 'verified', 'revoked')),
        first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, verified_at INTEGER, revoked_at INTEGER,
        PRIMARY KEY (jid, print)
      );
      INSERT INTO key_trust (jid, print, format, state, first_seen, last_seen, verified_at)
        VALUES ('romeo@montague.lit', '${rsaObs.print}', 'pubkey:1', 'verified', 1, 1, 2);
      PRAGMA user_version = 1;
    `);
    db.close();
    const t = new TrustStore(new SqliteTrustBackend(path));
    assert.deepEqual((await t.keys('romeo@montague.lit')).map((r) => [r.print, r.state]), [[rsaObs.print, 'verified']]);
    await t.observe('romeo@montague.lit', observedFromOmemoDevice('legacy', 99, ik(9)));
    await t.close();
    const reopened = new TrustStore(new SqliteTrustBackend(path));
    const rows = await reopened.keys('romeo@montague.lit');
    assert.deepEqual(rows.map((r) => [r.format, r.slot]), [['pubkey:1', undefined], ['omemo', '99']]);
    await reopened.close();
    const raw = new Database(path, { readonly: true });
    assert.equal(raw.pragma('user_version', { simple: true }), 2);
    raw.close();
  });
});
