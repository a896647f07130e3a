// TLS channel bindings for SCRAM-*-PLUS: tls-exporter (RFC 9266, TLS 1.3 only, where the keying material
// is unique per connection) and tls-server-end-point (RFC 5929 §4, a hash of our certificate, which works
// for any TLS version). A client that proves knowledge of these binds its login to this very TLS channel,
// defeating a man in the middle holding another certificate.
import 'reflect-metadata';
import { createHash, webcrypto } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import * as x509 from '@peculiar/x509';

export type ChannelBindingType = 'tls-exporter' | 'tls-server-end-point';

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

/** The channel binding types this TLS connection can offer. */
export function channelBindingTypes(socket: TLSSocket): ChannelBindingType[] {
  const types: ChannelBindingType[] = ['tls-server-end-point'];
  // RFC 9266 §3: tls-exporter is defined for TLS 1.3 (TLS 1.2 would need extended master secret).
  if (socket.getProtocol() === 'TLSv1.3') types.unshift('tls-exporter');
  return types;
}

export function channelBindingData(socket: TLSSocket, type: string): Buffer | undefined {
  if (!channelBindingTypes(socket).includes(type as ChannelBindingType)) return undefined;
  if (type === 'tls-exporter') return socket.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0));
  const cert = socket.getCertificate() as { raw?: Buffer } | null;
  return cert?.raw ? serverEndPointHash(cert.raw) : undefined;
}
