// One session's XEP-0352 state, as a layer on its stanza output: while the client says it is inactive,
// stanzas that can wait are held (collapsed where only the latest matters, importance.ts), and anything
// that cannot wait goes out after everything held before it, so the client sees them in order. Held
// stanzas are not sent yet, so XEP-0198 (the next layer) counts them only once they are.
import { parseXml, type Element } from '../../../xml/index.ts';
import { CSI_RANK, type StanzaLayer, type StanzaSink } from '../stanza-layer.ts';
import type { Outbound } from '../stream-management/unacked-queue.ts';
import { treatment, type Treatment } from './importance.ts';

export interface ClientStateHost {
  /** Hands a held stanza to the layers after this one. */
  passOn(data: string): void;
  /** Checks what is held against the server's ceiling on held output; false when over it. */
  budget(cs: ClientState): boolean;
}

export class ClientState implements StanzaLayer {
  readonly rank = CSI_RANK;
  private inactive = false;
  /** Held stanzas in the order they came; a collapsed one moves to the place of its latest version. */
  private readonly held = new Map<string, Outbound>();
  private seq = 0;
  /** Characters held. */
  chars = 0;

  constructor(private readonly host: ClientStateHost, private readonly maxHeld: number, private readonly maxChars: number) {}

  get isInactive(): boolean {
    return this.inactive;
  }

  get heldCount(): number {
    return this.held.size;
  }

  stanza(data: string, el: Element | undefined, next: StanzaSink): void {
    if (!this.inactive) return next(data, el);
    const t = classify(data, el);
    if (t === undefined) {
      this.flush();
      return next(data, el);
    }
    const key = t ?? `#${this.seq++}`;
    const previous = this.held.get(key);
    if (previous) {
      this.held.delete(key);
      this.chars -= previous.data.length;
    }
    this.held.set(key, { data, at: Date.now() });
    this.chars += data.length;
    // Past its bounds the queue goes out: holding back is an optimisation, never a reason to lose stanzas.
    if (this.held.size > this.maxHeld || this.chars > this.maxChars || !this.host.budget(this)) this.flush();
  }

  setActive(active: boolean): void {
    this.inactive = !active;
    if (active) this.flush();
  }

  /** Sends everything held, in order. */
  flush(): void {
    if (this.held.size === 0) return;
    const out = [...this.held.values()];
    this.held.clear();
    this.chars = 0;
    this.host.budget(this);
    for (const { data } of out) this.host.passOn(data);
  }

  /** The session ended: what was held, never sent. */
  drain(): Outbound[] {
    const out = [...this.held.values()];
    this.held.clear();
    this.chars = 0;
    return out;
  }
}

function classify(data: string, el: Element | undefined): Treatment {
  if (el) return treatment(el);
  try {
    return treatment(parseXml(data));
  } catch {
    // Not one stanza (several joined, or something unexpected): it goes out, after what is held.
    return undefined;
  }
}
