// The RFC 7395 transport: XMPP over WebSocket with the 'xmpp' subprotocol. Every WebSocket message is one
// whole element; <open/> and <close/> (urn:ietf:params:xml:ns:xmpp-framing) stand in for the stream header
// and </stream:stream>. The browser's WebSocket is used where there is one, else the `ws` package (Node 20),
// so the console and the Node tests run this same code.
import { StreamParser, x, type Element } from '../xml/index.ts';
import { NS_CLIENT, NS_STREAM } from '../protocol/rfc6120.ts';
import { ClientError } from './errors.ts';
import type { ClientTransport, TransportEvents } from './transport.ts';

export const NS_FRAMING = 'urn:ietf:params:xml:ns:xmpp-framing';

/** The part of the WebSocket API (WHATWG, and `ws`) this transport uses. */
interface WebSocketLike {
  readonly protocol: string;
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  send(data: string): void;
  close(code?: number): void;
}
type WebSocketCtor = new (url: string, protocols: string | string[]) => WebSocketLike;

async function webSocketClass(): Promise<WebSocketCtor> {
  const native = (globalThis as { WebSocket?: WebSocketCtor }).WebSocket;
  if (native) return native;
  return (await import('ws')).default as unknown as WebSocketCtor;
}

export class WebSocketTransport implements ClientTransport {
  readonly secure: boolean;
  private parser: StreamParser;
  private on!: TransportEvents;
  private ended = false;

  private constructor(private readonly ws: WebSocketLike, url: string) {
    this.secure = url.startsWith('wss:');
    // One parser for the whole connection, fed a synthetic stream root: every message is then parsed as a
    // top-level element, and stanzas the server writes without xmlns still land in jabber:client.
    this.parser = new StreamParser({
      streamStart: () => {},
      stanza: (el) => this.element(el),
      streamEnd: () => {},
      error: (e) => this.on.error(new ClientError('protocol', `malformed XML from the server: ${e.message}`)),
    }, { maxStanzaSize: 16 << 20 });
    this.parser.writeString(`<stream:stream xmlns='${NS_CLIENT}' xmlns:stream='${NS_STREAM}'>`);
    ws.onmessage = (ev) => this.parser.writeString(typeof ev.data === 'string' ? ev.data : new TextDecoder().decode(ev.data as Uint8Array));
    ws.onerror = () => this.on?.error(new ClientError('closed', 'WebSocket error'));
    ws.onclose = () => this.on?.closed();
  }

  static async connect(url: string, timeoutMs: number): Promise<WebSocketTransport> {
    const Ctor = await webSocketClass();
    const ws = new Ctor(url, 'xmpp');
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => (ws.close(), reject(new ClientError('timeout', `no WebSocket connection to ${url} within ${timeoutMs} ms`))), timeoutMs);
      ws.onopen = () => (clearTimeout(t), resolve());
      ws.onerror = () => (clearTimeout(t), reject(new ClientError('connect-failed', `cannot open a WebSocket to ${url}`)));
      ws.onclose = () => (clearTimeout(t), reject(new ClientError('connect-failed', `the server closed the WebSocket to ${url} before it opened`)));
    });
    // RFC 7395 §3.2: a server that did not agree to 'xmpp' is not speaking this protocol.
    if (ws.protocol !== 'xmpp') {
      ws.close();
      throw new ClientError('protocol', `the server at ${url} did not accept the 'xmpp' WebSocket subprotocol`);
    }
    return new WebSocketTransport(ws, url);
  }

  attach(on: TransportEvents): void {
    this.on = on;
  }

  restart(domain: string): void {
    this.send(x('open', { xmlns: NS_FRAMING, to: domain, version: '1.0' }));
  }

  send(el: Element | string): void {
    if (this.ws.readyState !== 1) throw new ClientError('closed', 'the WebSocket is not open');
    // RFC 7395 §3.3.3: every message is a standalone element, so a stanza carries its namespace itself.
    if (typeof el !== 'string' && el.attrs.xmlns === undefined && (el.name === 'iq' || el.name === 'message' || el.name === 'presence')) {
      el.attrs.xmlns = NS_CLIENT;
    }
    this.ws.send(typeof el === 'string' ? el : el.toString());
  }

  endStream(): void {
    if (this.ws.readyState === 1) this.ws.send(x('close', { xmlns: NS_FRAMING }).toString());
  }

  shutdown(): void {
    this.ws.close(1000);
  }

  destroy(): void {
    this.ws.close(1000);
  }

  private element(el: Element): void {
    if (el.is('open', NS_FRAMING)) return;
    if (el.is('close', NS_FRAMING)) {
      // §3.6: a <close/> with see-other-uri would redirect; we report it as the end of the stream.
      if (!this.ended) {
        this.ended = true;
        this.on.streamEnd();
      }
      return;
    }
    this.on.element(el);
  }
}
