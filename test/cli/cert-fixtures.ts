// Certificates with chosen names, validity and issuer, for the `check` and `cert` tests: what operators bring
// (a wildcard-only certificate, one from a CA with an intermediate, an expired one), which the server's own
// generator does not make.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const DAY = 86_400_000;

export interface Issued {
  cert: string;
  key: string;
  keys: webcrypto.CryptoKeyPair;
  name: string;
}

function pem(label: string, der: ArrayBuffer): string {
  return `-----BEGIN ${label}-----\n${Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END ${label}-----\n`;
}

export interface CertSpec {
  cn: string;
  /** DNS subjectAltNames; none when empty. */
  names?: string[];
  /** Days from now; default -1 and +365. */
  fromDays?: number;
  toDays?: number;
  /** Signed by this CA instead of itself. */
  issuer?: Issued;
  ca?: boolean;
}

export async function makeCert(spec: CertSpec): Promise<Issued> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const name = `CN=${spec.cn}`;
  const extensions: x509.Extension[] = [new x509.BasicConstraintsExtension(spec.ca ?? false, undefined, true)];
  if (spec.ca) extensions.push(new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.digitalSignature, true));
  if (spec.names?.length) extensions.push(new x509.SubjectAlternativeNameExtension(spec.names.map((value) => ({ type: 'dns' as const, value }))));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(8))).toString('hex'),
    subject: name,
    issuer: spec.issuer?.name ?? name,
    notBefore: new Date(Date.now() + (spec.fromDays ?? -1) * DAY),
    notAfter: new Date(Date.now() + (spec.toDays ?? 365) * DAY),
    signingAlgorithm: ALG,
    publicKey: keys.publicKey as any,
    signingKey: (spec.issuer?.keys.privateKey ?? keys.privateKey) as any,
    extensions,
  });
  return { cert: cert.toString('pem') + '\n', key: pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)), keys, name };
}

/** Writes cert.pem and key.pem (0600) into dir; returns their paths. */
export function writePair(dir: string, certText: string, keyText: string, base = 'server'): { cert: string; key: string } {
  const cert = join(dir, `${base}.crt`);
  const key = join(dir, `${base}.key`);
  writeFileSync(cert, certText);
  writeFileSync(key, keyText, { mode: 0o600 });
  return { cert, key };
}
