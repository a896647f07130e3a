// Certificate and key for STARTTLS and direct TLS. Operators configure PEM files; on a fresh install a
// self-signed certificate for the served domains is generated once (node:crypto cannot issue certificates,
// so @peculiar/x509 builds it) and kept in data_dir/tls so clients can pin it across restarts.
import 'reflect-metadata';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { webcrypto } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import * as x509 from '@peculiar/x509';

export interface TlsCredentials {
  cert: string;
  key: string;
}

export async function generateSelfSigned(domains: string[]): Promise<TlsCredentials> {
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(8))).toString('hex'),
    name: `CN=${domains[0]}`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 5 * 365 * 86400_000),
    signingAlgorithm: alg,
    keys: keys as any,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
      new x509.SubjectAlternativeNameExtension(domains.flatMap((d) => [{ type: 'dns' as const, value: d }, { type: 'dns' as const, value: `*.${d}` }])),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as any));
  const key = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
  return { cert: cert.toString('pem') + '\n', key };
}

/** Loads the configured PEM files, or the generated pair in dataDir/tls (creating it on first use). */
export async function loadTlsCredentials(opts: { cert?: string; key?: string; dataDir: string; domains: string[] }): Promise<TlsCredentials & { generated: boolean }> {
  if (opts.cert && opts.key) {
    return { cert: readFileSync(opts.cert, 'utf8'), key: readFileSync(opts.key, 'utf8'), generated: false };
  }
  const dir = join(opts.dataDir, 'tls');
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  if (existsSync(certPath) && existsSync(keyPath)) {
    return { cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8'), generated: false };
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const creds = await generateSelfSigned(opts.domains);
  writeFileSync(keyPath, creds.key, { mode: 0o600 });
  chmodSync(keyPath, 0o600);
  writeFileSync(certPath, creds.cert);
  return { ...creds, generated: true };
}

export function secureContext(creds: TlsCredentials): SecureContext {
  // TLS 1.2 is the floor (RFC 7590 / RFC 9325); Node's default cipher list already excludes weak suites.
  return createSecureContext({ cert: creds.cert, key: creds.key, minVersion: 'TLSv1.2' });
}
