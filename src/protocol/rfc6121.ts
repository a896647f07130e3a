// RFC 6121 — XMPP: Instant Messaging and Presence (2011).
export const NS_ROSTER = 'jabber:iq:roster';
/** Roster versioning stream feature (RFC 6121 §2.6.1). */
export const NS_ROSTER_VER = 'urn:xmpp:features:rosterver';
/** Subscription pre-approval stream feature (RFC 6121 §3.4). */
export const NS_PRE_APPROVAL = 'urn:xmpp:features:pre-approval';

export type PresenceType = 'available' | 'unavailable' | 'subscribe' | 'subscribed' | 'unsubscribe' | 'unsubscribed' | 'probe' | 'error';
export type MessageType = 'normal' | 'chat' | 'groupchat' | 'headline' | 'error';

export function presenceType(t: string | undefined): PresenceType | undefined {
  if (t === undefined) return 'available';
  switch (t) {
    case 'unavailable': case 'subscribe': case 'subscribed': case 'unsubscribe': case 'unsubscribed': case 'probe': case 'error':
      return t;
    default:
      return undefined;
  }
}

export function messageType(t: string | undefined): MessageType {
  switch (t) {
    case 'chat': case 'groupchat': case 'headline': case 'error':
      return t;
    // RFC 6121 §5.2.2: an unknown type is treated as normal.
    default:
      return 'normal';
  }
}

/**
 * The contact has a subscription FROM the user ('from' or 'both', RFC 6121 §2.1.2.5): it receives the
 * user's presence, and with it PEP notifications (XEP-0163 §4.3).
 */
export function hasSubscriptionFrom(subscription: string | undefined): boolean {
  return subscription === 'from' || subscription === 'both';
}

/** The user has a subscription TO the contact ('to' or 'both', RFC 6121 §2.1.2.5): it receives the contact's presence. */
export function hasSubscriptionTo(subscription: string | undefined): boolean {
  return subscription === 'to' || subscription === 'both';
}

/** RFC 6121 §2.1.2.5: the subscription states of a roster item. */
export type SubscriptionState = 'none' | 'to' | 'from' | 'both';

export function isSubscriptionState(s: string | undefined): s is SubscriptionState {
  return s === 'none' || s === 'to' || s === 'from' || s === 'both';
}

// The Appendix A state machine itself is data: src/server/modules/roster/subscription-table.ts.
