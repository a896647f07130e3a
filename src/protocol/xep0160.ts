// XEP-0160 — Best Practices for Handling Offline Messages, version 1.0.1.
// No namespace of its own: it specifies which messages are stored (normal and chat to a bare JID with no
// available resource) and that they are delivered with a XEP-0203 delay stamp on the next available presence.
export const OFFLINE_STORED_TYPES: ReadonlySet<string> = new Set(['normal', 'chat']);
