// Shared by the flow-control tests (issue 19 findings 1, 2, 9 and the memory budget): heap sampling of the
// in-process test server and stream-error checks.
import { exposeGc } from '../../helpers/hostile-corpus.ts';
import type { Element } from '../../../src/xml/index.ts';
import type { RawClient } from '../../helpers/raw-client.ts';

export const MiB = 1024 * 1024;
const NS_STREAM = 'http://etherx.jabber.org/streams';
const NS_STREAMS = 'urn:ietf:params:xml:ns:xmpp-streams';

export const isStreamError = (e: Element) => e.local === 'error' && e.ns === NS_STREAM;
export const streamCondition = (e: Element) => e.elements.find((c) => c.ns === NS_STREAMS && c.local !== 'text')?.local;

/** Waits for a stream error and returns its condition (undefined if the stream closed without one). */
export async function streamErrorOf(c: RawClient, timeoutMs = 10_000): Promise<string | undefined> {
  const err = await Promise.race([c.waitStanza(isStreamError, timeoutMs), c.closed.then(() => undefined)]);
  if (err) return streamCondition(err);
  const late = c.stanzas.find(isStreamError);
  return late ? streamCondition(late) : undefined;
}

/**
 * Heap of this process (the server runs in it), sampled every few ms from `start()` to `stop()`: the peak
 * above the baseline is what an attack made the server hold at its worst.
 */
export class HeapProbe {
  private readonly gc = exposeGc();
  baseline = 0;
  peak = 0;
  private timer: NodeJS.Timeout | undefined;

  start(): void {
    this.gc?.();
    this.baseline = process.memoryUsage().heapUsed;
    this.peak = this.baseline;
    this.timer = setInterval(() => this.sample(), 20);
  }

  sample(): void {
    this.peak = Math.max(this.peak, process.memoryUsage().heapUsed);
  }

  /** Stops sampling; returns the peak growth and the growth left after a forced collection, in bytes. */
  stop(): { peak: number; after: number } {
    this.sample();
    clearInterval(this.timer);
    this.gc?.();
    return { peak: this.peak - this.baseline, after: process.memoryUsage().heapUsed - this.baseline };
  }
}

export const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `test` holds (or the time is up; the caller asserts). */
export async function until(test: () => boolean, timeoutMs: number, probe?: HeapProbe): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > end) return false;
    probe?.sample();
    await sleep(20);
  }
  return true;
}
