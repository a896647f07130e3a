// Where `kt audit` keeps, per domain, how far it audited (docs/transparency.md "Incremental audit"): the last
// audited signed head and the right edge of that tree (the frontier: one hash per set bit of its size). A
// next audit proves the new head consistent with the audited one, downloads only the entries after it, and
// folds them into the frontier to recompute the new root: the whole log is checked without reading it again.
// A 0600 JSON file written by rename, like the head store; kept apart from it because `kt head`, fetches and
// watches advance the head store without auditing anything.
import { readJsonFile, writeJsonFile } from './private-json-file.ts';
import { b64, unb64 } from '../transparency/protocol.ts';
import { equalHashes } from '../transparency/hash.ts';
import { foldPieces } from '../transparency/tree.ts';
import { frontierFrom, frontierRefs, type Frontier } from '../transparency/frontier.ts';
import type { SignedTreeHead } from '../transparency/tree-head.ts';

export interface AuditCheckpoint {
  head: SignedTreeHead;
  frontier: Frontier;
  /** When the audit that reached `head` ended. */
  auditedAt: number;
}

interface StoredCheckpoint {
  size: number;
  time: number;
  root: string;
  key: string;
  signature: string;
  /** The frontier's hashes, highest level first (src/transparency/frontier.ts frontierRefs order). */
  frontier: string[];
  auditedAt: string;
}

/** The root the frontier folds to. */
export function frontierRoot(f: Frontier): Uint8Array {
  return foldPieces(frontierRefs(f.size).map((ref) => f.levels[ref.level]!));
}

export class KtAuditStateFile {
  constructor(readonly path: string) {}

  /** The checkpoint of `domain`; undefined when there is none or it does not fold to its own root (a damaged file: audit in full). */
  get(domain: string): AuditCheckpoint | undefined {
    const s = readJsonFile<StoredCheckpoint>(this.path)[domain];
    if (!s) return undefined;
    try {
      const head: SignedTreeHead = { domain, size: s.size, time: s.time, root: unb64(s.root, 32), key: unb64(s.key, 32), signature: unb64(s.signature, 64) };
      if (s.frontier.length !== frontierRefs(s.size).length) return undefined;
      const frontier = frontierFrom(s.size, s.frontier.map((h) => unb64(h, 32)));
      if (!equalHashes(frontierRoot(frontier), head.root)) return undefined;
      return { head, frontier, auditedAt: Date.parse(s.auditedAt) };
    } catch {
      return undefined;
    }
  }

  put(cp: AuditCheckpoint): void {
    const all = readJsonFile<StoredCheckpoint>(this.path);
    const h = cp.head;
    all[h.domain] = {
      size: h.size, time: h.time, root: b64(h.root), key: b64(h.key), signature: b64(h.signature),
      frontier: frontierRefs(cp.frontier.size).map((ref) => b64(cp.frontier.levels[ref.level]!)), auditedAt: new Date(cp.auditedAt).toISOString(),
    };
    writeJsonFile(this.path, all);
  }
}
