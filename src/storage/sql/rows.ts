// Rows of the SQL adapters' tables as records, one mapper per record for SQLite and PostgreSQL alike (their
// schemas name and encode the columns the same way). PostgreSQL returns BIGINT columns as strings and
// BOOLEAN as true/false where SQLite returns numbers, so the mappers take both.
import type {
  AccountRecord,
  OfflineMessage,
  PendingSubscription,
  PubsubItemRecord,
  PubsubNodeRecord,
  RosterItem,
  Subscription,
} from '../types.ts';

/** An INTEGER (SQLite) or BIGINT (PostgreSQL, as a string) column: milliseconds or a counter. */
type Int = number | string;

export interface AccountRow {
  jid: string;
  credentials: string;
  created_at: Int;
}

export const toAccount = (row: AccountRow): AccountRecord => ({
  jid: row.jid,
  credentials: JSON.parse(row.credentials),
  createdAt: Number(row.created_at),
});

export const rosterColumns = 'contact, name, subscription, ask, approved, groups_json';

export interface RosterItemRow {
  contact: string;
  name: string | null;
  subscription: string;
  ask: string | null;
  approved: number | boolean | null;
  groups_json: string;
}

export function toRosterItem(row: RosterItemRow): RosterItem {
  // Optional fields are only present when they were stored, so items round-trip exactly.
  const item: RosterItem = { jid: row.contact, subscription: row.subscription as Subscription, groups: [] };
  if (row.name !== null) item.name = row.name;
  if (row.ask !== null) item.ask = row.ask as 'subscribe';
  if (row.approved !== null) item.approved = Boolean(row.approved);
  item.groups = JSON.parse(row.groups_json);
  return item;
}

export const toPending = (row: { sender: string; stanza: string }): PendingSubscription => ({ from: row.sender, stanza: row.stanza });

/** `verbatim` is 0/1 in SQLite, a boolean in PostgreSQL, absent from older rows. */
export const toOfflineMessage = (row: { stanza: string; stored_at: Int; verbatim?: number | boolean }): OfflineMessage =>
  row.verbatim ? { stanza: row.stanza, storedAt: Number(row.stored_at), verbatim: true } : { stanza: row.stanza, storedAt: Number(row.stored_at) };

export const nodeColumns = 'node, config, created_at';

export interface NodeRow {
  node: string;
  config: string;
  created_at: Int;
}

export const toNode = (service: string, row: NodeRow): PubsubNodeRecord => ({
  service,
  node: row.node,
  config: JSON.parse(row.config),
  createdAt: Number(row.created_at),
});

export const itemColumns = 'item_id, publisher, payload, published_at';

export interface ItemRow {
  item_id: string;
  publisher: string;
  payload: string;
  published_at: Int;
}

export const toItem = (service: string, node: string, row: ItemRow): PubsubItemRecord => ({
  service,
  node,
  id: row.item_id,
  publisher: row.publisher,
  payload: row.payload,
  publishedAt: Number(row.published_at),
});

/** Affiliation and subscription rows (the JID and its value in `column`) as a Map by JID. */
export const toJidMap = <C extends string, V>(rows: ({ jid: string } & Record<C, V>)[], column: C): Map<string, V> =>
  new Map(rows.map((row) => [row.jid, row[column]]));
