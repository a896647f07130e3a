// The in-process bus: the default of a single node, and the bus of several in-process nodes in tests. It
// delivers on a later turn of the event loop, as a network would, so no caller relies on synchronous
// delivery that NATS would not give.
import { BusNoResponders, BusTimeout, type BusReply, type BusState, type ClusterBus } from './bus.ts';

type Handler = (data: string, reply: BusReply) => void;

/** One "server": the buses connected to the same hub see each other's messages. */
export class LocalBusHub {
  private readonly subs = new Map<string, Set<Handler>>();

  connect(): ClusterBus {
    return new LocalBus(this.subs);
  }
}

class LocalBus implements ClusterBus {
  state: BusState = 'connected';
  private readonly mine = new Set<{ subject: string; handler: Handler }>();
  private readonly listeners = new Set<(s: BusState) => void>();

  constructor(private readonly subs: Map<string, Set<Handler>>) {}

  publish(subject: string, data: string): void {
    this.send(subject, data, undefined);
  }

  private send(subject: string, data: string, reply: BusReply): number {
    if (this.state === 'closed') throw new Error('bus closed');
    const handlers = [...(this.subs.get(subject) ?? [])];
    for (const h of handlers) setImmediate(() => h(data, reply));
    return handlers.length;
  }

  subscribe(subject: string, handler: Handler): () => void {
    let set = this.subs.get(subject);
    if (!set) this.subs.set(subject, (set = new Set()));
    set.add(handler);
    const entry = { subject, handler };
    this.mine.add(entry);
    return () => {
      this.mine.delete(entry);
      const s = this.subs.get(subject);
      s?.delete(handler);
      if (s?.size === 0) this.subs.delete(subject);
    };
  }

  request(subject: string, data: string, timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      let done = false;
      const timer = setTimeout(() => finish(() => reject(new BusTimeout(subject))), timeoutMs);
      const finish = (f: () => void) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        f();
      };
      const n = this.send(subject, data, (answer) => finish(() => resolve(answer)));
      if (n === 0) finish(() => reject(new BusNoResponders(subject)));
    });
  }

  gather(subject: string, data: string, expect: number, timeoutMs: number): Promise<string[]> {
    return new Promise((resolve) => {
      const answers: string[] = [];
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(answers);
      };
      const timer = setTimeout(finish, timeoutMs);
      this.send(subject, data, (answer) => {
        if (done) return;
        answers.push(answer);
        if (answers.length >= expect) finish();
      });
      if (expect <= 0) finish();
    });
  }

  flush(): Promise<void> {
    return new Promise((r) => setImmediate(r));
  }

  onState(listener: (s: BusState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    for (const e of [...this.mine]) {
      const s = this.subs.get(e.subject);
      s?.delete(e.handler);
      if (s?.size === 0) this.subs.delete(e.subject);
    }
    this.mine.clear();
    this.state = 'closed';
    for (const l of this.listeners) l('closed');
  }
}
