// The RFC 6120 transport: one TCP connection carrying an XML stream, upgraded in place by STARTTLS (§5).
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket, type ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { StreamParser, escapeAttr, type Element } from '../xml/index.ts';
import { NS_STREAM } from '../protocol/rfc6120.ts';
import { ClientError } from './errors.ts';
import type { TlsOptions } from './connection.ts';
import type { ClientTransport, TransportEvents } from './transport.ts';

export class TcpTransport implements ClientTransport {
  secure = false;
  private parser!: StreamParser;
  private on!: TransportEvents;

  private constructor(private socket: Socket | TLSSocket) {}

  static connect(host: string, port: number, timeoutMs: number): Promise<TcpTransport> {
    return new Promise<TcpTransport>((resolve, reject) => {
      const s = netConnect({ host, port });
      const t = setTimeout(() => (s.destroy(), reject(new ClientError('timeout', `no TCP connection to ${host}:${port} within ${timeoutMs} ms`))), timeoutMs);
      s.once('connect', () => (clearTimeout(t), s.setNoDelay(true), resolve(new TcpTransport(s))));
      s.once('error', (e) => (clearTimeout(t), reject(new ClientError('connect-failed', `cannot connect to ${host}:${port}: ${(e as NodeJS.ErrnoException).code ?? e.message}`, e))));
    });
  }

  attach(on: TransportEvents): void {
    this.on = on;
    this.listen(this.socket);
  }

  restart(domain: string): void {
    this.parser = new StreamParser({
      streamStart: () => {},
      stanza: (el) => this.on.element(el),
      streamEnd: () => this.on.streamEnd(),
      error: (e) => this.on.error(new ClientError('protocol', `malformed XML from the server: ${e.message}`)),
    }, { maxStanzaSize: 16 << 20 });
    this.socket.write(`<?xml version='1.0'?><stream:stream to='${escapeAttr(domain)}' version='1.0' xml:lang='en' xmlns='jabber:client' xmlns:stream='${NS_STREAM}'>`);
  }

  send(el: Element | string): void {
    this.socket.write(typeof el === 'string' ? el : el.toString());
  }

  endStream(): void {
    try {
      this.socket.write('</stream:stream>');
    } catch {
      /* socket already gone */
    }
  }

  shutdown(): void {
    this.socket.end();
  }

  async startTls(servername: string, o: TlsOptions): Promise<void> {
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    const tlsOpts: TlsConnectionOptions = { socket: plain, servername: o.servername ?? servername, rejectUnauthorized: o.rejectUnauthorized ?? true };
    if (o.ca !== undefined) tlsOpts.ca = o.ca;
    const secure = await new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect(tlsOpts);
      s.once('secureConnect', () => resolve(s));
      s.once('error', (e) => reject(new ClientError('tls-failed', `TLS handshake failed: ${e.message}${tlsAdvice(e, tlsOpts)}`, e)));
    });
    this.socket = secure;
    this.secure = true;
    this.listen(secure);
  }

  destroy(): void {
    this.socket.end();
    this.socket.destroy();
  }

  private listen(socket: Socket | TLSSocket): void {
    socket.on('data', (d: Buffer) => this.parser.write(d));
    socket.on('error', (e) => this.on.error(new ClientError('closed', `connection error: ${e.message}`, e)));
    socket.on('close', () => this.on.closed());
  }
}

/**
 * What to do about a failed handshake, by its cause: advice to pin a certificate helps only when none was
 * pinned, and a certificate for another name is not fixed by pinning it.
 */
function tlsAdvice(e: Error, opts: TlsConnectionOptions): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return ` (the certificate is not for ${opts.servername}: the server needs a certificate naming the account's domain)`;
  }
  if (!/self.signed|unable to verify|certificate/i.test(e.message)) return '';
  if (opts.ca !== undefined) return ' (the server certificate does not chain to the certificate or CA you pinned)';
  return ' (pin the server certificate, or use the insecure option for a local test server)';
}
