// XEP-0092 — Software Version, version 1.1.
export const NS_VERSION = 'jabber:iq:version';
