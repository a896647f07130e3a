// TLS channel bindings for SCRAM-*-PLUS. A client that proves knowledge of these binds its login to this very
// TLS channel, defeating a man in the middle holding another certificate.
// - tls-exporter (RFC 9266): TLS 1.3 only, where the keying material is unique per connection.
// - tls-unique (RFC 5929 §3): offered on TLS 1.2 only; RFC 8446 §C.5 and RFC 9266 leave it undefined for
//   TLS 1.3, where it is accepted without being offered (see acceptsTls13Unique).
// - tls-server-end-point (RFC 5929 §4): a hash of our certificate, for any TLS version (XEP-0440 makes it
//   mandatory for servers).
import 'reflect-metadata';
import { createHash, webcrypto } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import * as x509 from '@peculiar/x509';

export type ChannelBindingType = 'tls-exporter' | 'tls-unique' | 'tls-server-end-point';

/** RFC 5929 §4.1: hash with the certificate's signature hash, with MD5 and SHA-1 upgraded to SHA-256. */
export function serverEndPointHash(certDer: Buffer): Buffer {
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  let hash = 'sha256';
  try {
    const alg = new x509.X509Certificate(certDer).signatureAlgorithm as { hash?: { name?: string } };
    const name = alg.hash?.name?.toLowerCase().replace('-', '');
    if (name === 'sha384' || name === 'sha512') hash = name;
  } catch {
    // An unparseable certificate keeps the RFC's default.
  }
  return createHash(hash).update(certDer).digest();
}

/**
 * The channel binding types this TLS connection can offer, strongest first.
 *
 * tls-unique only after a full TLS 1.2 handshake: after a resumed one, the triple-handshake attack
 * (RFC 7627 §1) lets a malicious server give its connection with us the same Finished messages as its
 * victim's connection with it, unless both used the extended master secret, which Node does not let us
 * check. (Renegotiation, the other way to a new "most recent handshake", is disabled on client streams.)
 */
export function channelBindingTypes(socket: TLSSocket): ChannelBindingType[] {
  const version = socket.getProtocol();
  if (version === 'TLSv1.3') return ['tls-exporter', 'tls-server-end-point'];
  if (version === 'TLSv1.2' && !socket.isSessionReused()) return ['tls-unique', 'tls-server-end-point'];
  return ['tls-server-end-point'];
}

/**
 * tls-unique on TLS 1.3, accepted but never advertised: RFC 8446 §C.5 leaves it undefined, yet OpenSSL computes
 * it (the client's Finished, an HMAC over this connection's transcript under its own handshake secret) and
 * clients built on CPython's ssl module, slixmpp 1.8 among them, know no other type. Measured in
 * test/interop/login-matrix.test.ts: without this, slixmpp on TLS 1.3 fell through four refusals to PLAIN; with
 * it, it logs in on the first try with its channel binding checked. Only after a full handshake, for the same
 * reason as on TLS 1.2, and the 'y' downgrade rule is untouched: clients that read XEP-0440 still see
 * tls-exporter and tls-server-end-point only.
 */
function acceptsTls13Unique(socket: TLSSocket, type: string): boolean {
  return type === 'tls-unique' && socket.getProtocol() === 'TLSv1.3' && !socket.isSessionReused();
}

export function channelBindingData(socket: TLSSocket, type: string): Buffer | undefined {
  if (!channelBindingTypes(socket).includes(type as ChannelBindingType) && !acceptsTls13Unique(socket, type)) return undefined;
  if (type === 'tls-exporter') return socket.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0));
  // RFC 5929 §3.1: the first Finished message of the most recent handshake. In a full TLS 1.2 handshake the
  // client sends its Finished first, so for us, the server, that is the peer's. On TLS 1.3 OpenSSL-based
  // clients use their own Finished too (see acceptsTls13Unique), which for us is again the peer's.
  if (type === 'tls-unique') return socket.getPeerFinished();
  const cert = socket.getCertificate() as { raw?: Buffer } | null;
  return cert?.raw ? serverEndPointHash(cert.raw) : undefined;
}
