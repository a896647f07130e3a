// XEP-0203 — Delayed Delivery, version 2.0.
export const NS_DELAY = 'urn:xmpp:delay';
