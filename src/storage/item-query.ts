// ItemQuery semantics shared by adapters that page in memory, so every adapter answers the same way.
import type { ItemQuery } from './types.ts';

/**
 * Applies `query` to `newestFirst` (the node's items, newest first).
 * - `ids`: those ids in the order given, missing skipped, then at most `max`; after/before are ignored.
 * - `after`/`before` (XEP-0059 over newest-first): an unknown anchor id yields no items. `before` with
 *   `max` returns the `max` items nearest the anchor (the page just before it), still newest first.
 *   `before: ''` means "the last page" as in XEP-0059 §2.5.
 */
export function applyItemQuery<T extends { id: string }>(newestFirst: T[], query: ItemQuery = {}): T[] {
  const { ids, max, after, before } = query;
  if (ids) {
    const byId = new Map(newestFirst.map((item) => [item.id, item]));
    const picked: T[] = [];
    for (const id of ids) {
      const item = byId.get(id);
      if (item && !picked.includes(item)) picked.push(item);
    }
    return max === undefined ? picked : picked.slice(0, Math.max(0, max));
  }
  let start = 0;
  let end = newestFirst.length;
  if (after !== undefined) {
    const i = newestFirst.findIndex((item) => item.id === after);
    if (i < 0) return [];
    start = i + 1;
  }
  if (before !== undefined && before !== '') {
    const i = newestFirst.findIndex((item) => item.id === before);
    if (i < 0) return [];
    end = Math.min(end, i);
  }
  if (end <= start) return [];
  const range = newestFirst.slice(start, end);
  if (max === undefined) return range;
  if (max <= 0) return [];
  // A `before` page is the one adjacent to the anchor, i.e. the oldest end of the range.
  return before !== undefined ? range.slice(Math.max(0, range.length - max)) : range.slice(0, max);
}
