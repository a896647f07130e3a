// Namespaces of server-to-server streams (RFC 6120 §4.8.2, XEP-0220).
export const NS_DIALBACK = 'jabber:server:dialback';
/** Stream feature announcing dialback (XEP-0220 §2.5); `<errors/>` inside says dialback errors are understood. */
export const NS_DIALBACK_FEATURE = 'urn:xmpp:features:dialback';
