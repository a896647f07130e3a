// Event bus with priorities, in the manner of Prosody's module:hook(): handlers run from the highest
// priority down, one at a time; a handler returning true has consumed the event and stops the chain.
export type HookHandler<T> = (event: T) => boolean | void | Promise<boolean | void>;

interface Entry {
  handler: HookHandler<any>;
  priority: number;
  seq: number;
}

export class HookBus<Events extends { [K in keyof Events]: unknown }> {
  private readonly hooks = new Map<keyof Events, Entry[]>();
  private seq = 0;

  /** Returns a function that removes the handler. */
  on<K extends keyof Events>(name: K, handler: HookHandler<Events[K]>, priority = 0): () => void {
    const list = this.hooks.get(name) ?? [];
    const entry: Entry = { handler, priority, seq: this.seq++ };
    list.push(entry);
    // Equal priorities keep registration order.
    list.sort((a, b) => b.priority - a.priority || a.seq - b.seq);
    this.hooks.set(name, list);
    return () => {
      const l = this.hooks.get(name);
      if (l) this.hooks.set(name, l.filter((e) => e !== entry));
    };
  }

  has(name: keyof Events): boolean {
    return (this.hooks.get(name)?.length ?? 0) > 0;
  }

  /** Runs the handlers in order; resolves true when one of them consumed the event. */
  async fire<K extends keyof Events>(name: K, event: Events[K]): Promise<boolean> {
    const list = this.hooks.get(name);
    if (!list) return false;
    for (const e of list) {
      if ((await e.handler(event)) === true) return true;
    }
    return false;
  }
}
