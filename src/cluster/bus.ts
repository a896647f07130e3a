// The cluster bus: subject-addressed messages between the nodes of one service. An existing engine carries
// it (NATS by default, nats/nats-bus.ts; docs/cluster.md says why); local-bus.ts is the in-process one, for a
// single node and for tests. Payloads are strings (JSON): everything crossing it is small and textual.

export type BusState = 'connected' | 'disconnected' | 'closed';

/** Answers a request; undefined when the message was published without expecting one. */
export type BusReply = ((data: string) => void) | undefined;

export interface ClusterBus {
  readonly state: BusState;
  /** Fire and forget to every subscriber of `subject`. */
  publish(subject: string, data: string): void;
  /** Returns the unsubscription. */
  subscribe(subject: string, handler: (data: string, reply: BusReply) => void): () => void;
  /**
   * The first answer of one subscriber. Rejects with BusNoResponders at once when nobody subscribes (a
   * node that is gone), with BusTimeout when no answer came within `timeoutMs`.
   */
  request(subject: string, data: string, timeoutMs: number): Promise<string>;
  /** The answers of up to `expect` subscribers, gathered until that many came or `timeoutMs` passed. */
  gather(subject: string, data: string, expect: number, timeoutMs: number): Promise<string[]>;
  /** Resolves once the bus server has taken everything this connection sent (subscriptions included). */
  flush(): Promise<void>;
  /** Called on each change of state; returns the removal. */
  onState(listener: (state: BusState) => void): () => void;
  close(): Promise<void>;
}

export class BusNoResponders extends Error {
  constructor(subject: string) {
    super(`no responder on ${subject}`);
  }
}

export class BusTimeout extends Error {
  constructor(subject: string) {
    super(`no answer on ${subject} in time`);
  }
}
