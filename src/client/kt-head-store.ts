// Where a client keeps, per domain, the log key it pinned and the last tree head it verified
// (docs/transparency.md "Client"). A separate 0600 JSON file, not a trust.db table: heads are per domain,
// not per contact key, and the trust store's backend interface (also implemented in the browser console)
// stays as it is. Written to a temporary file and renamed, so a crash leaves the old head or the new one.
import { readJsonFile, writeJsonFile } from './private-json-file.ts';
import { b64, unb64 } from '../transparency/protocol.ts';
import type { SignedTreeHead } from '../transparency/tree-head.ts';

export interface KtHeadStore {
  get(domain: string): Promise<SignedTreeHead | undefined>;
  put(head: SignedTreeHead): Promise<void>;
  /** Every domain's head (what `kt gossip` publishes). */
  list(): Promise<SignedTreeHead[]>;
}

interface StoredHead {
  size: number;
  time: number;
  root: string;
  key: string;
  signature: string;
}

export class MemoryKtHeadStore implements KtHeadStore {
  private readonly heads = new Map<string, SignedTreeHead>();
  async get(domain: string) {
    return this.heads.get(domain);
  }
  async put(head: SignedTreeHead) {
    this.heads.set(head.domain, head);
  }
  async list() {
    return [...this.heads.values()];
  }
}

export class FileKtHeadStore implements KtHeadStore {
  constructor(readonly path: string) {}

  private read(): Record<string, StoredHead> {
    return readJsonFile<StoredHead>(this.path);
  }

  async get(domain: string): Promise<SignedTreeHead | undefined> {
    const s = this.read()[domain];
    return s && toHead(domain, s);
  }

  async list(): Promise<SignedTreeHead[]> {
    return Object.entries(this.read()).map(([domain, s]) => toHead(domain, s));
  }

  async put(h: SignedTreeHead): Promise<void> {
    const all = this.read();
    all[h.domain] = { size: h.size, time: h.time, root: b64(h.root), key: b64(h.key), signature: b64(h.signature) };
    writeJsonFile(this.path, all);
  }
}

function toHead(domain: string, s: StoredHead): SignedTreeHead {
  return { domain, size: s.size, time: s.time, root: unb64(s.root, 32), key: unb64(s.key, 32), signature: unb64(s.signature, 64) };
}
