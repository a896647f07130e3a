// The cluster bus on NATS (core NATS, no JetStream: the bus carries live traffic only; PostgreSQL keeps what
// must last). The client reconnects for ever; while it is away, publishes wait in its buffer and requests
// time out, which the callers turn into bounces (docs/cluster.md, "bus outage").
import { connect, createInbox, RequestError, type NatsConnection } from '@nats-io/transport-node';
import { BusNoResponders, BusTimeout, type BusReply, type BusState, type ClusterBus } from '../bus.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

export interface NatsBusOptions {
  /** nats://host:port, one or several (comma-separated) servers of one NATS cluster. */
  url: string;
  /** Client name shown by the NATS server's monitoring (the node id). */
  name?: string;
}

export async function connectNatsBus(opts: NatsBusOptions): Promise<ClusterBus> {
  const nc = await connect({
    servers: opts.url.split(',').map((s) => s.trim().replace(/^nats:\/\//, '')),
    name: opts.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    // Notice a dead server within a few seconds rather than the default two minutes.
    pingInterval: 2_000,
    maxPingOut: 2,
  });
  return new NatsBus(nc);
}

class NatsBus implements ClusterBus {
  state: BusState = 'connected';
  private readonly listeners = new Set<(s: BusState) => void>();

  constructor(private readonly nc: NatsConnection) {
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect') this.set('disconnected');
        else if (s.type === 'reconnect') this.set('connected');
      }
    })().catch(() => undefined);
    void nc.closed().then(() => this.set('closed'));
  }

  private set(state: BusState): void {
    if (this.state === state || this.state === 'closed') return;
    this.state = state;
    for (const l of this.listeners) l(state);
  }

  publish(subject: string, data: string): void {
    this.nc.publish(subject, enc.encode(data));
  }

  subscribe(subject: string, handler: (data: string, reply: BusReply) => void): () => void {
    const sub = this.nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) return;
        const reply = msg.reply ? (answer: string) => this.replyTo(msg.reply!, answer) : undefined;
        handler(dec.decode(msg.data), reply);
      },
    });
    return () => sub.unsubscribe();
  }

  private replyTo(subject: string, data: string): void {
    if (this.state !== 'closed') this.nc.publish(subject, enc.encode(data));
  }

  async request(subject: string, data: string, timeoutMs: number): Promise<string> {
    try {
      return dec.decode((await this.nc.request(subject, enc.encode(data), { timeout: timeoutMs })).data);
    } catch (err) {
      if (err instanceof RequestError && err.isNoResponders()) throw new BusNoResponders(subject);
      throw new BusTimeout(subject);
    }
  }

  gather(subject: string, data: string, expect: number, timeoutMs: number): Promise<string[]> {
    if (expect <= 0) return Promise.resolve([]);
    return new Promise((resolve) => {
      const answers: string[] = [];
      const inbox = createInbox();
      const sub = this.nc.subscribe(inbox, {
        callback: (err, msg) => {
          if (err) return;
          answers.push(dec.decode(msg.data));
          if (answers.length >= expect) finish();
        },
      });
      const finish = () => {
        clearTimeout(timer);
        sub.unsubscribe();
        resolve(answers);
      };
      const timer = setTimeout(finish, timeoutMs);
      this.nc.publish(subject, enc.encode(data), { reply: inbox });
    });
  }

  flush(): Promise<void> {
    return this.nc.flush();
  }

  onState(listener: (s: BusState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.nc.isClosed()) return;
    await this.nc.drain().catch(() => this.nc.close());
    this.set('closed');
  }
}
