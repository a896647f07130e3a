// The verifiable maps in SQLite (migration 8, storage/kt-map.ts). A subtree read is one range scan of the
// primary key (domain, label); an epoch goes in as one write, so a crash never leaves half an epoch.
import { KtMapEpochError, type KtMapEntry, type KtMapEpoch, type KtMapStore } from '../kt-map.ts';
import type { SqliteDatabase } from './database.ts';
import type { GroupCommit } from './group-commit.ts';

type EntryRow = { label: Buffer; commitment: Buffer; epoch: number; jid: string; node: string; version: number; seq: number };
type EpochRow = { epoch: number; log_size: number; log_root: Buffer; root: Buffer; time: number; key: Buffer; signature: Buffer };

const u8 = (b: Buffer): Uint8Array => new Uint8Array(b);
const toEntry = (r: EntryRow): KtMapEntry => ({ ...r, label: u8(r.label), commitment: u8(r.commitment) });
const toEpoch = (r: EpochRow | undefined): KtMapEpoch | undefined =>
  r && { epoch: r.epoch, logSize: r.log_size, logRoot: u8(r.log_root), root: u8(r.root), time: r.time, key: u8(r.key), signature: u8(r.signature) };

export function createSqliteKtMap(db: SqliteDatabase, gc: GroupCommit): KtMapStore {
  const cols = 'label, commitment, epoch, jid, node, version, seq';
  const range = db.prepare('SELECT label, commitment FROM kt_map_entries WHERE domain = ? AND label >= ? AND label <= ? AND epoch <= ? ORDER BY label LIMIT ?');
  const get = db.prepare(`SELECT ${cols} FROM kt_map_entries WHERE domain = ? AND label = ?`);
  const inserted = db.prepare(`SELECT ${cols} FROM kt_map_entries WHERE domain = ? AND epoch > ? AND epoch <= ? ORDER BY label LIMIT ?`);
  const versions = db.prepare(`SELECT ${cols} FROM kt_map_entries WHERE domain = ? AND jid = ? AND node = ? AND version >= ? ORDER BY version LIMIT ?`);
  const latestVersion = db.prepare('SELECT coalesce(max(version), 0) FROM kt_map_entries WHERE domain = ? AND jid = ? AND node = ?').pluck();
  const latestEpochNo = db.prepare('SELECT coalesce(max(epoch), 0) FROM kt_map_epochs WHERE domain = ?').pluck();
  const epochCols = 'epoch, log_size, log_root, root, time, key, signature';
  const selectEpoch = db.prepare(`SELECT ${epochCols} FROM kt_map_epochs WHERE domain = ? AND epoch = ?`);
  const selectLatest = db.prepare(`SELECT ${epochCols} FROM kt_map_epochs WHERE domain = ? ORDER BY epoch DESC LIMIT 1`);
  const insertEntry = db.prepare(`INSERT INTO kt_map_entries (domain, ${cols}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
  const insertEpoch = db.prepare(`INSERT INTO kt_map_epochs (domain, ${epochCols}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
  const buf = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

  return {
    range: (domain, lo, hi, epoch, limit) =>
      gc.read(() => (range.all(domain, buf(lo), buf(hi), epoch, limit) as { label: Buffer; commitment: Buffer }[]).map((r) => ({ label: u8(r.label), commitment: u8(r.commitment) }))),
    get: (domain, label) =>
      gc.read(() => {
        const r = get.get(domain, buf(label)) as EntryRow | undefined;
        return r && toEntry(r);
      }),
    inserted: (domain, after, upTo, limit) => gc.read(() => (inserted.all(domain, after, upTo, limit) as EntryRow[]).map(toEntry)),
    versions: (domain, jid, node, from, limit) => gc.read(() => (versions.all(domain, jid, node, from, limit) as EntryRow[]).map(toEntry)),
    latestVersion: (domain, jid, node) => gc.read(() => latestVersion.get(domain, jid, node) as number),
    addEpoch: (domain, e, entries) =>
      gc.write(() => {
        // The write runs in its own savepoint (group-commit.ts): a throw here undoes every insert of the epoch.
        const next = (latestEpochNo.get(domain) as number) + 1;
        if (e.epoch !== next) throw new KtMapEpochError(`map epoch ${e.epoch} is not the next one (${next})`);
        for (const x of entries) {
          if (x.epoch !== e.epoch) throw new KtMapEpochError('an entry of another epoch');
          try {
            insertEntry.run(domain, buf(x.label), buf(x.commitment), x.epoch, x.jid, x.node, x.version, x.seq);
          } catch (err) {
            if ((err as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT')) throw new KtMapEpochError('map label or version already present');
            throw err;
          }
        }
        insertEpoch.run(domain, e.epoch, e.logSize, buf(e.logRoot), buf(e.root), e.time, buf(e.key), buf(e.signature));
      }),
    latestEpoch: (domain) => gc.read(() => toEpoch(selectLatest.get(domain) as EpochRow | undefined)),
    epoch: (domain, epoch) => gc.read(() => toEpoch(selectEpoch.get(domain, epoch) as EpochRow | undefined)),
  };
}
