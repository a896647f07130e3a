// Certificate and key for STARTTLS and direct TLS. Operators configure PEM files; on a fresh install a
// self-signed certificate for the served domains is generated once (node:crypto cannot issue certificates,
// so @peculiar/x509 builds it) and kept in data_dir/tls so clients can pin it across restarts.
import 'reflect-metadata';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
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

/** A configured PEM file; a failure names the setting that points at it, so the operator knows what to fix. */
function readConfigured(path: string, setting: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw Object.assign(new Error(`${setting} = "${path}": ${why}`), { code: 'TLS_FILE_UNREADABLE' });
  }
}

/** Where the generated pair lives; the server uses it whenever tls.cert and tls.key are not configured. */
export function generatedTlsFiles(dataDir: string): { dir: string; cert: string; key: string } {
  const dir = join(dataDir, 'tls');
  return { dir, cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
}

/**
 * Writes a pair into dataDir/tls, replacing any there (`pepkeys cert generate|import` too): each file is
 * written beside its target and renamed over it, so a crash or a SIGHUP reload never sees half a file.
 */
export function writeGeneratedTls(dataDir: string, creds: TlsCredentials): void {
  const files = generatedTlsFiles(dataDir);
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  for (const [path, text, mode] of [[files.key, creds.key, 0o600], [files.cert, creds.cert, 0o644]] as const) {
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, text, { mode });
    renameSync(tmp, path);
  }
}

/** Loads the configured PEM files, or the generated pair in dataDir/tls (creating it on first use). */
export async function loadTlsCredentials(opts: { cert?: string; key?: string; dataDir: string; domains: string[] }): Promise<TlsCredentials & { generated: boolean }> {
  if (opts.cert && opts.key) {
    return { cert: readConfigured(opts.cert, 'tls.cert'), key: readConfigured(opts.key, 'tls.key'), generated: false };
  }
  const files = generatedTlsFiles(opts.dataDir);
  if (existsSync(files.cert) && existsSync(files.key)) {
    return { cert: readFileSync(files.cert, 'utf8'), key: readFileSync(files.key, 'utf8'), generated: false };
  }
  const creds = await generateSelfSigned(opts.domains);
  writeGeneratedTls(opts.dataDir, creds);
  return { ...creds, generated: true };
}

/**
 * TLS 1.2 is the floor (RFC 9325 §3.1.1); for TLS 1.2 only forward-secret AEAD suites are allowed (RFC 9325
 * §4.2, Mozilla's "intermediate" profile), which drops the CBC suites Node's default list still carries.
 * TLS 1.3 suites are all AEAD and stay at Node's defaults.
 */
const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305',
];
const TLS13_CIPHERS = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];

export function tlsOptions(creds: TlsCredentials) {
  return {
    cert: creds.cert,
    key: creds.key,
    minVersion: 'TLSv1.2' as const,
    ciphers: [...TLS13_CIPHERS, ...TLS12_CIPHERS].join(':'),
    honorCipherOrder: true,
  };
}

export function secureContext(creds: TlsCredentials): SecureContext {
  return createSecureContext(tlsOptions(creds));
}
