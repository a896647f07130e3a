// The stanza trace: at log level trace, every element read from and text written to a client stream, with
// secrets redacted (redact.ts), on the session's child logger (session id and peer address).
import type { TrafficObserver } from './traffic.ts';
import { redactXml } from './redact.ts';

export function stanzaTrace(): TrafficObserver {
  return {
    read: (session, el) => session.log.trace({ xml: redactXml(el.toString()) }, 'in'),
    wrote: (session, data) => session.log.trace({ xml: redactXml(data) }, 'out'),
  };
}
