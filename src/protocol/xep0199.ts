// XEP-0199 — XMPP Ping, version 2.0.1.
export const NS_PING = 'urn:xmpp:ping';
