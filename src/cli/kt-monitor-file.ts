// HOME/kt-monitor.json (0600, written by rename): per own account, what `key monitor` needs to tell the
// user's own key events from events someone else made (docs/transparency.md "Monitoring"):
//   own       every write this home made to the account's key nodes (node, item id, type, SHA-256 of the
//             payload as sent), recorded before it is sent by `key publish`, `key revoke`, `key attest`;
//   next      the log size the monitor has read the account's entries up to;
//   pending   alerts not acknowledged yet (they are reported again on every run);
//   accepted  sequence numbers the user acknowledged (`key monitor --accept`), e.g. another client's events.
import { join } from 'node:path';
import { readJsonFile, writeJsonFile } from '../client/private-json-file.ts';
import type { OwnKeyWrite } from '../client/index.ts';
import { sha256 } from '../transparency/hash.ts';
import type { KeyEvent } from '../transparency/leaf.ts';

export const KT_MONITOR_FILE = 'kt-monitor.json';

export interface OwnEvent {
  node: string;
  item: string;
  type: KeyEvent['type'];
  /** Hex SHA-256 of the payload, for a publish. */
  payloadHash?: string;
  time: string;
}

/** A log entry about the account that none of its own writes explains. */
export interface MonitorAlert {
  seq: number;
  time: string;
  type: KeyEvent['type'];
  node: string;
  item: string;
  fingerprint: string;
  payloadHash?: string;
}

export interface MonitorState {
  own: OwnEvent[];
  next: number;
  pending: MonitorAlert[];
  accepted: number[];
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export class KtMonitorFile {
  constructor(readonly path: string) {}

  static inHome(dir: string): KtMonitorFile {
    return new KtMonitorFile(join(dir, KT_MONITOR_FILE));
  }

  private read(): Record<string, MonitorState> {
    return readJsonFile<MonitorState>(this.path);
  }

  state(bare: string): MonitorState {
    return this.read()[bare] ?? { own: [], next: 0, pending: [], accepted: [] };
  }

  save(bare: string, state: MonitorState): void {
    const all = this.read();
    all[bare] = state;
    writeJsonFile(this.path, all);
  }

  /** Synchronous, so the write is on disk before the publish leaves. */
  recordOwn(bare: string, w: OwnKeyWrite): void {
    const state = this.state(bare);
    const payloadHash = hex(sha256(Buffer.from(w.payload.toString(), 'utf8')));
    state.own.push({ node: w.node, item: w.itemId, type: 'publish', payloadHash, time: new Date().toISOString() });
    this.save(bare, state);
  }
}

/** Whether one of the home's own writes explains a log event. */
export function isOwn(state: MonitorState, e: KeyEvent): boolean {
  const h = e.payloadHash ? hex(e.payloadHash) : undefined;
  return state.own.some((o) => o.node === e.node && o.item === e.itemId && o.type === e.type && o.payloadHash === h);
}

export function alertOf(e: KeyEvent): MonitorAlert {
  return {
    seq: e.seq, time: new Date(e.time).toISOString(), type: e.type, node: e.node, item: e.itemId, fingerprint: e.fingerprint ?? '',
    ...(e.payloadHash ? { payloadHash: hex(e.payloadHash) } : {}),
  };
}
