// XEP-0198 §4: the stanzas sent to the client that it has not acknowledged yet, numbered by the 32-bit
// wrapping counter. What stays here when the session ends is handled as undelivered (undelivered.ts).
import { hDistance, nextH } from '../../../protocol/xep0198.ts';

/** A stanza that left (or would have left) the server, with when, for a XEP-0203 stamp should it come back. */
export interface Outbound {
  readonly data: string;
  readonly at: number;
}

export class UnackedQueue {
  private items: Outbound[] = [];
  /** Index of the oldest unacknowledged item: dropping from the front does not move the array each time. */
  private head = 0;
  /** Stanzas sent, modulo 2^32. */
  sent = 0;
  /** The peer's last 'h': stanzas it has acknowledged, modulo 2^32. */
  acked = 0;
  /** Characters held. */
  chars = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(data: string, at: number): void {
    this.items.push({ data, at });
    this.sent = nextH(this.sent);
    this.chars += data.length;
  }

  /** Drops what `h` acknowledges; false (and nothing dropped) when it acknowledges more than was sent. */
  ack(h: number): boolean {
    const n = hDistance(this.acked, h);
    if (n > this.length) return false;
    for (let i = 0; i < n; i++) this.chars -= this.items[this.head + i]!.data.length;
    this.head += n;
    this.acked = h;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return true;
  }

  /** The unacknowledged stanzas, oldest first. */
  pending(): Outbound[] {
    return this.items.slice(this.head);
  }

  /** Empties the queue, returning what it held. */
  drain(): Outbound[] {
    const out = this.pending();
    this.items = [];
    this.head = 0;
    this.chars = 0;
    return out;
  }
}
