// What crosses client streams, for observers outside the session: metrics count stanzas, the stanza trace
// logs them. Called synchronously for every element read and every write, so observers must be cheap and
// must not throw; with none registered a session pays one property read per stanza.
import type { Element } from '../../xml/index.ts';
import type { Logger } from './logger.ts';

/** What an observer sees of the session a stanza crossed. */
export interface TrafficSession {
  readonly id: string;
  /** The session's child logger (session id and peer address). */
  readonly log: Logger;
}

export interface TrafficObserver {
  /** An element read from the client (negotiation elements included), before it is processed. */
  read(session: TrafficSession, el: Element): void;
  /** Text written to the client: stream framing, negotiation, or one or several whole stanzas. */
  wrote(session: TrafficSession, data: string): void;
}

/** One observer standing for several (undefined for none, so the session's check stays a property read). */
export function combineObservers(list: readonly TrafficObserver[]): TrafficObserver | undefined {
  if (list.length <= 1) return list[0];
  const all = [...list];
  return {
    read: (s, el) => {
      for (const o of all) o.read(s, el);
    },
    wrote: (s, data) => {
      for (const o of all) o.wrote(s, data);
    },
  };
}
