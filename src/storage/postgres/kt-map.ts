// The verifiable maps in PostgreSQL (migration 8, storage/kt-map.ts): the layout of the SQLite adapter. An
// epoch goes in as one write (one transaction with the writes batched beside it; a failure rolls it back).
import { KtMapEpochError, type KtMapEntry, type KtMapEpoch, type KtMapStore } from '../kt-map.ts';
import { num, statement } from './db.ts';
import type { GroupCommit } from './group-commit.ts';

type EntryRow = { label: Buffer; commitment: Buffer; epoch: string; jid: string; node: string; version: string; seq: string };
type EpochRow = { epoch: string; log_size: string; log_root: Buffer; root: Buffer; time: string; key: Buffer; signature: Buffer };

const u8 = (b: Buffer): Uint8Array => new Uint8Array(b);
const toEntry = (r: EntryRow): KtMapEntry => ({
  label: u8(r.label),
  commitment: u8(r.commitment),
  epoch: num(r.epoch),
  jid: r.jid,
  node: r.node,
  version: num(r.version),
  seq: num(r.seq),
});
const toEpoch = (r: EpochRow | undefined): KtMapEpoch | undefined =>
  r && { epoch: num(r.epoch), logSize: num(r.log_size), logRoot: u8(r.log_root), root: u8(r.root), time: num(r.time), key: u8(r.key), signature: u8(r.signature) };
const buf = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

const cols = 'label, commitment, epoch, jid, node, version, seq';
const epochCols = 'epoch, log_size, log_root, root, time, key, signature';
const range = statement('ktmap_range', 'SELECT label, commitment FROM kt_map_entries WHERE domain = $1 AND label >= $2 AND label <= $3 AND epoch <= $4 ORDER BY label LIMIT $5');
const get = statement('ktmap_get', `SELECT ${cols} FROM kt_map_entries WHERE domain = $1 AND label = $2`);
const inserted = statement('ktmap_inserted', `SELECT ${cols} FROM kt_map_entries WHERE domain = $1 AND epoch > $2 AND epoch <= $3 ORDER BY label LIMIT $4`);
const versions = statement('ktmap_versions', `SELECT ${cols} FROM kt_map_entries WHERE domain = $1 AND jid = $2 AND node = $3 AND version >= $4 ORDER BY version LIMIT $5`);
const latestVersion = statement('ktmap_latest_version', 'SELECT coalesce(max(version), 0) AS v FROM kt_map_entries WHERE domain = $1 AND jid = $2 AND node = $3');
const selectEpoch = statement('ktmap_epoch', `SELECT ${epochCols} FROM kt_map_epochs WHERE domain = $1 AND epoch = $2`);
const selectLatest = statement('ktmap_latest_epoch', `SELECT ${epochCols} FROM kt_map_epochs WHERE domain = $1 ORDER BY epoch DESC LIMIT 1`);
// The epoch row first: its primary key makes a second server adding the same epoch fail before any entry.
const insertEpoch = statement(
  'ktmap_insert_epoch',
  `INSERT INTO kt_map_epochs (domain, ${epochCols})
   SELECT $1, $2, $3, $4, $5, $6, $7, $8 WHERE $2 = (SELECT coalesce(max(epoch), 0) + 1 FROM kt_map_epochs WHERE domain = $1)`,
);
const insertEntries = statement(
  'ktmap_insert_entries',
  `INSERT INTO kt_map_entries (domain, ${cols})
   SELECT $1, l, c, $2, j, n, v, s FROM unnest($3::bytea[], $4::bytea[], $5::text[], $6::text[], $7::bigint[], $8::bigint[]) AS t(l, c, j, n, v, s)`,
);

export function createPostgresKtMap(gc: GroupCommit): KtMapStore {
  return {
    range: (domain, lo, hi, epoch, limit) =>
      gc.read(async (db) => (await db.run<{ label: Buffer; commitment: Buffer }>(range, [domain, buf(lo), buf(hi), epoch, limit])).rows.map((r) => ({ label: u8(r.label), commitment: u8(r.commitment) }))),
    get: (domain, label) =>
      gc.read(async (db) => {
        const r = (await db.run<EntryRow>(get, [domain, buf(label)])).rows[0];
        return r && toEntry(r);
      }),
    inserted: (domain, after, upTo, limit) => gc.read(async (db) => (await db.run<EntryRow>(inserted, [domain, after, upTo, limit])).rows.map(toEntry)),
    versions: (domain, jid, node, from, limit) => gc.read(async (db) => (await db.run<EntryRow>(versions, [domain, jid, node, from, limit])).rows.map(toEntry)),
    latestVersion: (domain, jid, node) => gc.read(async (db) => num((await db.run<{ v: string }>(latestVersion, [domain, jid, node])).rows[0]?.v)),
    addEpoch: (domain, e, entries) =>
      gc.write(async (db) => {
        if (entries.some((x) => x.epoch !== e.epoch)) throw new KtMapEpochError('an entry of another epoch');
        const r = await db.run(insertEpoch, [domain, e.epoch, e.logSize, buf(e.logRoot), buf(e.root), e.time, buf(e.key), buf(e.signature)]);
        if (r.rowCount !== 1) throw new KtMapEpochError(`map epoch ${e.epoch} is not the next one`);
        try {
          await db.run(insertEntries, [
            domain,
            e.epoch,
            entries.map((x) => buf(x.label)),
            entries.map((x) => buf(x.commitment)),
            entries.map((x) => x.jid),
            entries.map((x) => x.node),
            entries.map((x) => x.version),
            entries.map((x) => x.seq),
          ]);
        } catch (err) {
          if ((err as { code?: string }).code === '23505') throw new KtMapEpochError('map label or version already present');
          throw err;
        }
      }),
    latestEpoch: (domain) => gc.read(async (db) => toEpoch((await db.run<EpochRow>(selectLatest, [domain])).rows[0])),
    epoch: (domain, epoch) => gc.read(async (db) => toEpoch((await db.run<EpochRow>(selectEpoch, [domain, epoch])).rows[0])),
  };
}
