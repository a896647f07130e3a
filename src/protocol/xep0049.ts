// XEP-0049 Private XML Storage (1.2): one XML fragment per (element, namespace), readable and writable only by
// the account itself. XEP-0048 bookmarks (`<storage xmlns='storage:bookmarks'/>`) are what clients keep there.
export const NS_PRIVATE = 'jabber:iq:private';

/** §3: namespaces in the jabber: space are reserved for the protocol itself and may not be stored. */
export function isReservedPrivateNamespace(ns: string): boolean {
  return ns.startsWith('jabber:');
}
