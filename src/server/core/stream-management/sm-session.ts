// One session's stream management (XEP-0198): the counters of both directions, the unacknowledged queue,
// and, when resumable, its SM-ID and hibernation. It sits on the session's stanza output as a layer, so
// every stanza that reaches the client is counted once, and while the connection is gone (hibernating) the
// stanzas only queue.
import { ACK_REQUEST, nextH } from '../../../protocol/xep0198.ts';
import type { Element } from '../../../xml/index.ts';
import { SM_RANK, type StanzaLayer, type StanzaSink } from '../stanza-layer.ts';
import { UnackedQueue } from './unacked-queue.ts';

/** What a session's stream management needs from around it. */
export interface SmHost {
  /** The queue grew: checks it against its bounds; false if the session is being closed for it. */
  grew(sm: SmSession): boolean;
  /** Writes a stream-level element to the session's connection, if it has one. */
  transmit(data: string): void;
}

export class SmSession implements StanzaLayer {
  readonly rank = SM_RANK;
  readonly queue = new UnackedQueue();
  /** Stanzas received from the client and handled, modulo 2^32 (§4). */
  handled = 0;
  /** While the connection is gone: ends the session when it fires. */
  hibernation: NodeJS.Timeout | undefined;
  /** An <r/> is out and not yet answered: no other is sent meanwhile. */
  private requested = false;
  private requestScheduled = false;

  /**
   * @param id the SM-ID when the session may be resumed
   * @param timeoutMs how long it is kept without a connection
   */
  constructor(
    private readonly host: SmHost,
    readonly id: string | undefined,
    readonly timeoutMs: number,
  ) {}

  get hibernating(): boolean {
    return this.hibernation !== undefined;
  }

  stanza(data: string, el: Element | undefined, next: StanzaSink): void {
    this.queue.push(data, Date.now());
    next(data, el);
    if (this.host.grew(this)) this.requestAck();
  }

  /** A stanza arrived from the client (§4: counted once handled; processing is in order, so on arrival). */
  received(): void {
    this.handled = nextH(this.handled);
  }

  /** The client's 'h' (from <a/> or <resume/>); false when it acknowledges more than was sent. */
  acknowledge(h: number): boolean {
    if (!this.queue.ack(h)) return false;
    this.requested = false;
    return true;
  }

  /**
   * Asks the client to acknowledge what it has (§4), once per burst of output: on the next turn of the event
   * loop, so a fan-out of many stanzas costs one request.
   */
  requestAck(): void {
    if (this.requested || this.requestScheduled || this.hibernating) return;
    this.requestScheduled = true;
    setImmediate(() => {
      this.requestScheduled = false;
      if (this.requested || this.hibernating || this.queue.length === 0) return;
      this.requested = true;
      this.host.transmit(ACK_REQUEST);
    });
  }

  /** The connection dropped: a request in flight is lost with it. */
  connectionLost(): void {
    this.requested = false;
  }
}
