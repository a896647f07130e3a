// Pipelining one session's stanzas. RFC 6120 §10.1 asks that a client's stanzas be processed in the order
// they arrived; the session does that by finishing one stanza before it starts the next. For a publish,
// "finishing" is mostly waiting for storage to make the item durable, so a client publishing a burst would
// pay one commit (and one fsync) per stanza. Here a handler that has issued all of its state changes, in
// order, may let the session move on while they settle, so a burst shares commits. Order stays observable
// as arrival order because:
// - only stanzas a module declared pipelinable start early (their effects are all issued before they
//   proceed, and storage settles writes in the order they were issued);
// - their replies go out in arrival order (each waits for the ones before it);
// - any other stanza waits until everything before it has completed.
// The session owns its pipeline; what a stanza gets from it (`proceed`, `previous`) goes into its
// StanzaContext.
import { NOT_PIPELINED } from './stanza-context.ts';

const SETTLED = Promise.resolve();

export class SessionPipeline {
  /** Settles when every pipelined stanza started so far has completed; undefined when none is in flight. */
  private tail: Promise<void> | undefined;
  private inFlight = 0;

  /** Bounded, so a client cannot make the server hold an unbounded number of stanzas half done. */
  constructor(private readonly maxInFlight = 64) {}

  /**
   * Processes one stanza. Resolves when the session may start its next stanza: at once after `proceed`
   * for a pipelinable one, or when it has completed. `previous` settles once every earlier pipelined
   * stanza has completed (undefined when this one is not pipelined). `process` must not reject.
   */
  async run(pipelinable: boolean, process: (proceed: () => void, previous: Promise<void> | undefined) => Promise<void>): Promise<void> {
    if (this.tail && (!pipelinable || this.inFlight >= this.maxInFlight)) await this.tail;
    if (!pipelinable) return process(NOT_PIPELINED, undefined);
    const previous = this.tail ?? SETTLED;
    let proceed!: () => void;
    const proceeded = new Promise<void>((resolve) => (proceed = resolve));
    const done = process(proceed, previous);
    this.inFlight++;
    // Completion includes the earlier stanzas', even if this one finished without waiting for them.
    const tail: Promise<void> = Promise.all([previous, done.catch(() => undefined)]).then(() => {
      this.inFlight--;
      if (this.tail === tail) this.tail = undefined;
    });
    this.tail = tail;
    await Promise.race([proceeded, done]);
  }

  /** Settles once every stanza started so far has completed (before the stream is closed, say). */
  idle(): Promise<void> {
    return this.tail ?? SETTLED;
  }
}
