// Migration 10: the key-event journal from one record per event (migration 9) to one per group-commit batch
// (kt-journal-record.ts). Records not yet drained are kept under their own numbers, one event each: the
// transparency file's cursor counts records, so it stays valid, and they are appended before any record
// written after the upgrade, which numbers above them (the new table numbers max(seq) + 1).
import type { SqliteDatabase } from './database.ts';
import { encodeJournalRecord } from './kt-journal-record.ts';
import type { KeyEventType } from '../../transparency/leaf.ts';

type EventRow = {
  seq: number;
  domain: string;
  type: KeyEventType;
  time: number;
  jid: string;
  node: string;
  item_id: string;
  payload: string | null;
  payload_hash: Buffer | null;
  fingerprint: string | null;
};

/** Runs after `ALTER TABLE kt_journal RENAME TO kt_journal_events` and the new kt_journal's CREATE. */
export function convertKtJournal(db: SqliteDatabase): void {
  // The rename carried the AUTOINCREMENT counter over: the highest number ever given, drained or not.
  const highest = (db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'kt_journal_events'").pluck().get() as number | undefined) ?? 0;
  const insert = db.prepare('INSERT INTO kt_journal (seq, events) VALUES (?, ?)');
  // .all(): the connection cannot write while a statement iterates. Undrained records are few (drained ones are deleted).
  for (const r of db.prepare('SELECT * FROM kt_journal_events ORDER BY seq').all() as EventRow[]) {
    const event = {
      type: r.type,
      time: r.time,
      jid: r.jid,
      node: r.node,
      itemId: r.item_id,
      payload: r.payload ?? undefined,
      payloadHash: r.payload_hash ? new Uint8Array(r.payload_hash) : undefined,
      fingerprint: r.fingerprint ?? undefined,
    };
    insert.run(r.seq, encodeJournalRecord([{ domain: r.domain, event }]));
  }
  const copied = db.prepare('SELECT coalesce(max(seq), 0) FROM kt_journal').pluck().get() as number;
  // New records must number above every old one, appended or not (the cursor may stand at `highest`, the old
  // records all deleted): an empty record holds that number, and being the highest it is never deleted.
  if (highest > copied) insert.run(highest, encodeJournalRecord([]));
  db.exec('DROP TABLE kt_journal_events');
}
