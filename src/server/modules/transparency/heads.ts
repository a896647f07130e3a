// One domain's tree heads: signed every epoch when the log has grown, and on demand; the latest is kept
// here and published to the domain's heads node. Heads are issued one at a time per domain, so sizes and
// times only ever grow.
import type { KeyObject } from 'node:crypto';
import type { TransparencyStore } from '../../../storage/types.ts';
import { rootHash } from '../../../transparency/tree.ts';
import { signTreeHead, type SignedTreeHead } from '../../../transparency/tree-head.ts';

export class DomainHeads {
  private latestHead: SignedTreeHead | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly domain: string,
    private readonly key: KeyObject,
    private readonly store: TransparencyStore,
    private readonly publish: (head: SignedTreeHead) => Promise<void>,
    private readonly clock: () => number,
  ) {}

  get latest(): SignedTreeHead | undefined {
    return this.latestHead;
  }

  /** Settles once the heads being signed now are done. */
  settled(): Promise<unknown> {
    return this.queue;
  }

  /** Adopts a head read back from the heads node at start, so the next one continues from it. */
  restore(head: SignedTreeHead): void {
    if (!this.latestHead || head.size > this.latestHead.size) this.latestHead = head;
  }

  /**
   * Signs a head over the log as it is now when it has grown since the latest (or `always`), publishing it
   * when its size is new. Resolves with the latest head.
   */
  issue(always = false): Promise<SignedTreeHead> {
    const run = this.queue.then(async () => {
      const size = await this.store.size(this.domain);
      const last = this.latestHead;
      if (last && size === last.size && !always) return last;
      const root = await rootHash(size, (refs) => this.store.nodes(this.domain, refs));
      // Never a time before the previous head's, whatever the clock does.
      const time = Math.max(this.clock(), last?.time ?? 0);
      const head = signTreeHead({ domain: this.domain, size, time, root }, this.key);
      this.latestHead = head;
      if (!last || size !== last.size) await this.publish(head);
      return head;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}
