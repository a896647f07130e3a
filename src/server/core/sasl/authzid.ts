// Who a SASL exchange may act for. pepkeys has no proxy authorisation, so an authorisation identity is
// accepted only when it names the authenticated account itself: RFC 6120 §6.4.6 lets the server refuse any
// other with <invalid-authzid/>, and accepting "juliet@montague.lit" (or a full JID) for juliet@capulet.lit
// would let a client believe it acts as someone it does not.
import { tryParseJid } from '../../../jid/index.ts';

/** True for an empty authzid or one that is exactly the bare JID `username@domain` (after normalisation). */
export function authzidAllowed(authzid: string, username: string, domain: string): boolean {
  if (authzid === '') return true;
  const jid = tryParseJid(authzid);
  return jid !== undefined && jid.isBare() && jid.local === username && jid.domain === domain;
}
