// The parts of a JID string, by position only (RFC 7622 §3.1: the first '/' starts the resourcepart, and
// an '@' before it ends the localpart). For strings that are already normalised JIDs (stored, or stamped
// by the server); untrusted input goes through parseJid, which slices the same way and then validates.

export interface JidParts {
  local: string | undefined;
  domain: string;
  resource: string | undefined;
}

export function jidParts(jid: string): JidParts {
  const slash = jid.indexOf('/');
  const head = slash < 0 ? jid : jid.slice(0, slash);
  const at = head.indexOf('@');
  return {
    local: at < 0 ? undefined : head.slice(0, at),
    domain: at < 0 ? head : head.slice(at + 1),
    resource: slash < 0 ? undefined : jid.slice(slash + 1),
  };
}

/** `user@domain/resource` → `user@domain`; a bare JID is returned as it is. */
export function bareOf(jid: string): string {
  const slash = jid.indexOf('/');
  return slash < 0 ? jid : jid.slice(0, slash);
}

/** The domainpart of a JID string. */
export function domainOf(jid: string): string {
  return jidParts(jid).domain;
}

/** The resourcepart, or undefined for a bare JID. */
export function resourceOf(jid: string): string | undefined {
  const slash = jid.indexOf('/');
  return slash < 0 ? undefined : jid.slice(slash + 1);
}
