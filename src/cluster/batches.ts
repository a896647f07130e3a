// Cutting what one node sends another in one turn into bus messages that fit. NATS refuses a message over
// its max_payload (1 MiB by default): a large fan-out goes as several batches.

/**
 * Characters of stanzas per bus message. A UTF-16 unit is at most 3 UTF-8 bytes, plus JSON escaping, so
 * 256 Ki characters stay under 1 MiB.
 */
export const MAX_BATCH_CHARS = 256 * 1024;

/** Splits `items` (strings, or tuples of strings) into runs of at most MAX_BATCH_CHARS (one item may exceed it alone). */
export function batches<T extends string | readonly string[]>(items: T[]): T[][] {
  const out: T[][] = [];
  let chunk: T[] = [];
  let chars = 0;
  for (const it of items) {
    const size = (typeof it === 'string' ? it.length : it.reduce((n, s) => n + s.length, 0)) + 16;
    if (chunk.length > 0 && chars + size > MAX_BATCH_CHARS) {
      out.push(chunk);
      chunk = [];
      chars = 0;
    }
    chunk.push(it);
    chars += size;
  }
  if (chunk.length) out.push(chunk);
  return out;
}
