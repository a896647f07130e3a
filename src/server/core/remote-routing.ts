// The seam between the stanza router and whatever reaches other servers: the router hands over every
// stanza addressed to a domain it does not serve and knows nothing of how (or whether) it travels on.
import type { Element } from '../../xml/index.ts';
import type { Jid } from '../../jid/index.ts';
import { StanzaError } from '../../protocol/rfc6120.ts';

export interface RemoteRouting {
  /**
   * Takes a stanza for a remote domain (`from` set, local or a remote origin's error reply). Anything that
   * cannot be delivered is answered to its sender through `bounce`, never dropped silently.
   */
  send(stanza: Element, from: Jid, to: Jid): void;
}

/** Without federation: every other domain is unreachable (RFC 6120 §10.4.3). */
export function noRemoteRouting(bounce: (stanza: Element, error: StanzaError) => void): RemoteRouting {
  return {
    send(stanza, _from, to) {
      bounce(stanza, new StanzaError('remote-server-not-found', `${to.domain} is not served here`));
    },
  };
}
