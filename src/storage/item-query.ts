// The `ids` half of ItemQuery, which every adapter answers the same way whatever it looks items up in.
// (`max` alone is each adapter's newest-first LIMIT.)

/** The items `ids` names, in the order given, each once, missing ones skipped, then at most `max`. */
export function pickItems<T>(ids: readonly string[], max: number | undefined, find: (id: string) => T | undefined): T[] {
  const picked: T[] = [];
  for (const id of new Set(ids)) {
    if (max !== undefined && picked.length >= max) break;
    const item = find(id);
    if (item !== undefined) picked.push(item);
  }
  return picked;
}
