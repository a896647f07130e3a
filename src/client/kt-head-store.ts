// Where a client keeps, per domain, what it verified of the domain's key transparency (docs/transparency.md
// "Client"): the last tree head (and so the pinned log key), the domain's VRF public key (pinned on first use)
// and the last map head (Stage 2). One record per domain in a separate 0600 JSON file, not a trust.db table:
// heads are per domain, not per contact key, and the trust store's backend interface (also implemented in the
// browser console) stays as it is. Written to a temporary file and renamed, so a crash leaves the old record or
// the new one.
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readJsonFile, writeJsonFile } from './private-json-file.ts';
import { b64, unb64 } from '../transparency/protocol.ts';
import type { SignedTreeHead } from '../transparency/tree-head.ts';
import type { SignedMapHead } from '../transparency/map-head.ts';

export interface KtHeadStore {
  get(domain: string): Promise<SignedTreeHead | undefined>;
  put(head: SignedTreeHead): Promise<void>;
  /** Every domain's head (what `kt gossip` publishes). */
  list(): Promise<SignedTreeHead[]>;
  /** The domain's pinned VRF public key (Stage 2 labels). */
  getVrfKey(domain: string): Promise<Uint8Array | undefined>;
  putVrfKey(domain: string, key: Uint8Array): Promise<void>;
  /** The last map head verified for the domain. */
  getMapHead(domain: string): Promise<SignedMapHead | undefined>;
  putMapHead(head: SignedMapHead): Promise<void>;
  /** Every domain's last map head (gossiped beside the tree heads). */
  listMapHeads(): Promise<SignedMapHead[]>;
}

/** Before the map heads, the VRF keys were pinned in this file of the same directory (hex, per domain). */
export const LEGACY_VRF_KEYS_FILE = 'kt-vrf-keys.json';

interface StoredMapHead {
  epoch: number;
  logSize: number;
  time: number;
  logRoot: string;
  root: string;
  key: string;
  signature: string;
}

/** One domain's record; the tree head's fields are absent until a tree head was verified. */
interface StoredRecord {
  size?: number;
  time?: number;
  root?: string;
  key?: string;
  signature?: string;
  /** The pinned VRF public key, hex (as in the legacy file). */
  vrfKey?: string;
  mapHead?: StoredMapHead;
}

export class MemoryKtHeadStore implements KtHeadStore {
  private readonly heads = new Map<string, SignedTreeHead>();
  private readonly vrfKeys = new Map<string, Uint8Array>();
  private readonly mapHeads = new Map<string, SignedMapHead>();
  async get(domain: string) {
    return this.heads.get(domain);
  }
  async put(head: SignedTreeHead) {
    this.heads.set(head.domain, head);
  }
  async list() {
    return [...this.heads.values()];
  }
  async getVrfKey(domain: string) {
    return this.vrfKeys.get(domain);
  }
  async putVrfKey(domain: string, key: Uint8Array) {
    this.vrfKeys.set(domain, key);
  }
  async getMapHead(domain: string) {
    return this.mapHeads.get(domain);
  }
  async putMapHead(head: SignedMapHead) {
    this.mapHeads.set(head.domain, head);
  }
  async listMapHeads() {
    return [...this.mapHeads.values()];
  }
}

export class FileKtHeadStore implements KtHeadStore {
  constructor(readonly path: string) {}

  /** The records, with the legacy VRF key file folded in (then removed) the first time it is seen. */
  private read(): Record<string, StoredRecord> {
    const all = readJsonFile<StoredRecord>(this.path);
    const legacy = join(dirname(this.path), LEGACY_VRF_KEYS_FILE);
    if (!existsSync(legacy)) return all;
    // A key already in the record wins: the legacy file can only be older than it.
    for (const [domain, hex] of Object.entries(readJsonFile<string>(legacy))) {
      if (!all[domain]?.vrfKey) all[domain] = { ...all[domain], vrfKey: hex };
    }
    writeJsonFile(this.path, all);
    rmSync(legacy, { force: true });
    return all;
  }

  private update(domain: string, change: (r: StoredRecord) => StoredRecord): void {
    const all = this.read();
    all[domain] = change(all[domain] ?? {});
    writeJsonFile(this.path, all);
  }

  async get(domain: string): Promise<SignedTreeHead | undefined> {
    const s = this.read()[domain];
    return s && toHead(domain, s);
  }

  async list(): Promise<SignedTreeHead[]> {
    return Object.entries(this.read()).flatMap(([domain, s]) => toHead(domain, s) ?? []);
  }

  async put(h: SignedTreeHead): Promise<void> {
    this.update(h.domain, (r) => ({ ...r, size: h.size, time: h.time, root: b64(h.root), key: b64(h.key), signature: b64(h.signature) }));
  }

  async getVrfKey(domain: string): Promise<Uint8Array | undefined> {
    const hex = this.read()[domain]?.vrfKey;
    return hex === undefined ? undefined : new Uint8Array(Buffer.from(hex, 'hex'));
  }

  async putVrfKey(domain: string, key: Uint8Array): Promise<void> {
    this.update(domain, (r) => ({ ...r, vrfKey: Buffer.from(key).toString('hex') }));
  }

  async getMapHead(domain: string): Promise<SignedMapHead | undefined> {
    const m = this.read()[domain]?.mapHead;
    return m && toMapHead(domain, m);
  }

  async putMapHead(h: SignedMapHead): Promise<void> {
    const mapHead: StoredMapHead = { epoch: h.epoch, logSize: h.logSize, time: h.time, logRoot: b64(h.logRoot), root: b64(h.root), key: b64(h.key), signature: b64(h.signature) };
    this.update(h.domain, (r) => ({ ...r, mapHead }));
  }

  async listMapHeads(): Promise<SignedMapHead[]> {
    return Object.entries(this.read()).flatMap(([domain, s]) => (s.mapHead ? [toMapHead(domain, s.mapHead)] : []));
  }
}

function toHead(domain: string, s: StoredRecord): SignedTreeHead | undefined {
  if (s.size === undefined || !s.root || !s.key || !s.signature) return undefined;
  return { domain, size: s.size, time: s.time ?? 0, root: unb64(s.root, 32), key: unb64(s.key, 32), signature: unb64(s.signature, 64) };
}

function toMapHead(domain: string, m: StoredMapHead): SignedMapHead {
  return { domain, epoch: m.epoch, logSize: m.logSize, time: m.time, logRoot: unb64(m.logRoot, 32), root: unb64(m.root, 32), key: unb64(m.key, 32), signature: unb64(m.signature, 64) };
}
