// XEP-0313 paging over one archive held as a list, oldest first: the memory adapter's query, and the
// reference the SQL adapters' statements (sql/archive-query.ts) must agree with through the contract.
import { ArchiveIdNotFoundError, type ArchivedMessage, type ArchivePage, type ArchivePageQuery } from './types.ts';
import { bareOf } from '../jid/index.ts';

export function pageArchive(owner: string, all: readonly ArchivedMessage[], q: ArchivePageQuery): ArchivePage {
  const position = (id: string): number => {
    const i = all.findIndex((m) => m.id === id);
    if (i < 0) throw new ArchiveIdNotFoundError(owner, id);
    return i;
  };
  // Every anchor is checked, even one a narrower condition makes moot, as the SQL adapters do.
  const lo = q.afterId !== undefined ? position(q.afterId) : -1;
  const hi = q.beforeId !== undefined ? position(q.beforeId) : all.length;
  const after = q.after !== undefined ? position(q.after) : -1;
  const before = q.before !== undefined ? position(q.before) : all.length;
  const ids = q.ids && new Set(q.ids);
  const withBare = q.with !== undefined && !q.with.includes('/');
  const matching: number[] = [];
  for (let i = lo + 1; i < hi; i++) {
    const m = all[i]!;
    if (q.with !== undefined && (withBare ? bareOf(m.with) : m.with) !== q.with) continue;
    if (q.start !== undefined && m.storedAt < q.start) continue;
    if (q.end !== undefined && m.storedAt > q.end) continue;
    if (ids && !ids.has(m.id)) continue;
    matching.push(i);
  }
  const max = Math.max(0, q.max);
  let from: number;
  let to: number;
  let complete: boolean;
  if (q.before !== undefined || q.last) {
    to = lowerBound(matching, before);
    from = Math.max(0, to - max);
    complete = from === 0;
  } else {
    from = lowerBound(matching, after + 1);
    to = Math.min(matching.length, from + max);
    complete = to === matching.length;
  }
  return {
    messages: matching.slice(from, to).map((i) => ({ ...all[i]! })),
    count: matching.length,
    index: from,
    complete,
  };
}

/** The first position in the sorted list holding a value ≥ v. */
function lowerBound(sorted: readonly number[], v: number): number {
  let a = 0;
  let b = sorted.length;
  while (a < b) {
    const mid = (a + b) >> 1;
    if (sorted[mid]! < v) a = mid + 1;
    else b = mid;
  }
  return a;
}
