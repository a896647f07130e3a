// One kt_journal record (migration 10): the key events of one group-commit batch (docs/transparency.md
// "Storage"), in order, as JSON text: an array of events, each an array of its fields in a fixed order.
// JSON.stringify of arrays of strings and numbers is among V8's fastest paths, and the record is written on
// the event loop for every batch; the key-log process (kt-process.ts) and `pepkeys check` decode it.
// Tried and not kept: the record deflated (level 1; 16 Ed25519 publishes: 6 KB of JSON to 1.5 KB) cost the
// event loop ~2 µs more per publish than the pages it saved (storage micro-benchmark, main-thread CPU).
import type { KeyEventType } from '../../transparency/leaf.ts';
import type { LogAppend } from '../types.ts';

/** [domain, type, time, jid, node, itemId, payload, payloadHash (hex), fingerprint]; absent ones are null. */
type EncodedEvent = [string, KeyEventType, number, string, string, string, string | null, string | null, string | null];

export function encodeJournalRecord(logs: readonly LogAppend[]): string {
  const out = new Array<unknown[]>(logs.length);
  for (let i = 0; i < logs.length; i++) {
    const { domain, event: e } = logs[i]!;
    // undefined in an array is written as null.
    out[i] = [domain, e.type, e.time, e.jid, e.node, e.itemId, e.payload, e.payloadHash && Buffer.from(e.payloadHash).toString('hex'), e.fingerprint];
  }
  return JSON.stringify(out);
}

export function decodeJournalRecord(text: string): LogAppend[] {
  return (JSON.parse(text) as EncodedEvent[]).map(([domain, type, time, jid, node, itemId, payload, payloadHash, fingerprint]) => ({
    domain,
    event: {
      type,
      time,
      jid,
      node,
      itemId,
      payload: payload ?? undefined,
      payloadHash: payloadHash === null ? undefined : new Uint8Array(Buffer.from(payloadHash, 'hex')),
      fingerprint: fingerprint ?? undefined,
    },
  }));
}
