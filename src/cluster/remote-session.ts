// A session held by another cluster node, as this node sees it: its replicated state (availability,
// priority, last presence, shared module state) and a deliver() that crosses the bus. Module state that is
// not shared is kept here only, for this node's own use.
import { parseJid, type Jid } from '../jid/index.ts';
import { parseXml, type Element } from '../xml/index.ts';
import type { StreamErrorCondition } from '../protocol/rfc6120.ts';
import type { ModuleSession, SessionKey } from './types.ts';

/** What a node tells the others about one of its sessions. */
export interface SessionRecord {
  jid: string;
  available: boolean;
  priority: number;
  presence?: string;
  shared: Record<string, unknown>;
  /** When it was bound (ms since the epoch): the newer of two sessions with one full JID wins. */
  since: number;
}

export interface RemoteSessionHost {
  send(node: string, to: string, stanza: Element | string): void;
  endRemote(node: string, jid: string, condition: StreamErrorCondition, text?: string): void;
}

export class RemoteSession implements ModuleSession {
  readonly jid: Jid;
  available: boolean;
  priority: number;
  closed = false;
  private presenceXml: string | undefined;
  private presenceEl: Element | undefined;
  private shared: Record<string, unknown>;
  private readonly state = new Map<string, unknown>();

  constructor(readonly node: string, rec: SessionRecord, private readonly host: RemoteSessionHost) {
    this.jid = parseJid(rec.jid);
    this.available = rec.available;
    this.priority = rec.priority;
    this.presenceXml = rec.presence;
    this.shared = rec.shared;
  }

  update(rec: SessionRecord): void {
    this.available = rec.available;
    this.priority = rec.priority;
    if (rec.presence !== this.presenceXml) this.presenceEl = undefined;
    this.presenceXml = rec.presence;
    this.shared = rec.shared;
    this.state.clear();
  }

  get presence(): Element | undefined {
    if (this.presenceXml === undefined) return undefined;
    return (this.presenceEl ??= parseXml(this.presenceXml));
  }

  set presence(p: Element | undefined) {
    this.presenceEl = p;
    this.presenceXml = p?.toString();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  deliver(stanza: Element | string): void {
    if (!this.closed) this.host.send(this.node, this.jid.full, stanza);
  }

  get<T>(key: SessionKey<T>): T | undefined {
    if (this.state.has(key.name)) return this.state.get(key.name) as T;
    if (!key.shared || !(key.name in this.shared)) return undefined;
    const v = key.shared.decode(this.shared[key.name]);
    this.state.set(key.name, v);
    return v;
  }

  /** Kept on this node only: the node holding the connection owns the session's shared state. */
  set<T>(key: SessionKey<T>, value: T): void {
    this.state.set(key.name, value);
  }

  delete(key: SessionKey<unknown>): void {
    this.state.delete(key.name);
    if (key.shared) this.state.set(key.name, undefined);
  }

  end(condition: StreamErrorCondition, text?: string): void {
    this.host.endRemote(this.node, this.jid.full, condition, text);
  }
}
