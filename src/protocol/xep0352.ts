// XEP-0352 — Client State Indication, version 1.0.0 (2020-10-14). The server's use of the state is its
// own choice (§3.2); ours is in server/core/csi/.
export const NS_CSI = 'urn:xmpp:csi:0';
