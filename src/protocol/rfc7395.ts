// RFC 7395: XMPP over WebSocket. Each message is one element; <open/> and <close/> stand for the stream
// header and footer.
export const NS_FRAMING = 'urn:ietf:params:xml:ns:xmpp-framing';
/** The WebSocket subprotocol a client must ask for (RFC 7395 §3.1). */
export const WS_SUBPROTOCOL = 'xmpp';
/** XEP-0156: the link relation of a WebSocket endpoint in host-meta. */
export const REL_WEBSOCKET = 'urn:xmpp:alt-connections:websocket';
