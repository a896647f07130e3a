// Reading and judging a PEM certificate chain and its private key, for `pepkeys check` and `pepkeys cert`.
// Name matching is OpenSSL's X509_check_host through node:crypto, held to RFC 6125 §6.4: DNS names in the
// subjectAltName (the CN only when there are none), a wildcard only as the whole left-most label and matching
// exactly one label, so `*.example.com` covers `chat.example.com` but neither `example.com` nor `a.b.example.com`.
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CliError } from '../errors.ts';
import { error, ok, warning, type Finding, type Level } from './findings.ts';

/** Certificates nearer than this to their end are reported, so renewal happens before clients refuse them. */
export const EXPIRY_WARNING_DAYS = 14;
const DAY_MS = 86_400_000;

export interface CertificatePair {
  /** Leaf first, then the intermediates as the file lists them. */
  chain: X509Certificate[];
  key?: KeyObject;
  /** Where the certificate came from, for messages (a path, with the setting that names it). */
  source: string;
  keySource?: string;
}

/** Reads a file for a certificate command; a failure names the setting that points at it. */
export function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied (run as the user the server runs as)' : (err as Error).message;
    throw new CliError(`${what}: ${why}`);
  }
}

export function parseChain(pem: string, source: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new CliError(`${source}: no PEM certificate in it (expected -----BEGIN CERTIFICATE-----)`);
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw new CliError(`${source}: certificate ${i + 1} cannot be read: ${(err as Error).message}`);
    }
  });
}

export function parseKey(pem: string, source: string): KeyObject {
  // PKCS#8 encrypted, or the legacy OpenSSL form; asking for a passphrase is not something a server can do.
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(pem)) {
    throw new CliError(`${source}: the private key is encrypted; the server needs it unencrypted (\`openssl pkey -in KEY -out KEY.plain\`, then chmod 600)`);
  }
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw new CliError(`${source}: not a PEM private key (${(err as Error).message})`);
  }
}

export function readPair(certPath: string, keyPath: string | undefined, certWhat = certPath, keyWhat = keyPath ?? ''): CertificatePair {
  const chain = parseChain(readPem(certPath, certWhat), certWhat);
  const key = keyPath === undefined ? undefined : parseKey(readPem(keyPath, keyWhat), keyWhat);
  return { chain, key, source: certWhat, keySource: keyWhat };
}

export function covers(cert: X509Certificate, host: string): boolean {
  return cert.checkHost(host, { subject: 'default', wildcards: true, partialWildcards: false, multiLabelWildcards: false }) !== undefined;
}

/** The dNSName entries of the subjectAltName. */
export function dnsNames(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '')
    .split(/,\s*/)
    .filter((n) => n.startsWith('DNS:'))
    .map((n) => n.slice(4).replace(/^"(.*)"$/, '$1'));
}

/** Issued by itself (checkIssued would also demand keyCertSign, which a server's own certificate lacks). */
export function isSelfSigned(cert: X509Certificate): boolean {
  return cert.subject === cert.issuer && cert.verify(cert.publicKey);
}

const day = (d: Date) => d.toISOString().slice(0, 10);

/** What `cert show` prints and `check --json` carries. */
export function describe(cert: X509Certificate, hosts: readonly string[]) {
  return {
    subject: cert.subject.replace(/\n/g, ', '),
    names: dnsNames(cert),
    issuer: isSelfSigned(cert) ? 'self-signed' : cert.issuer.replace(/\n/g, ', '),
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
    sha256: cert.fingerprint256,
    covers: Object.fromEntries(hosts.map((h) => [h, covers(cert, h)])),
  };
}

/**
 * Judges a pair against the served hosts: key belongs to the certificate, every host covered (`uncovered`
 * says how serious a missing one is), valid now and for 14 more days, chain in order.
 */
export interface JudgeOptions {
  /** How serious a served host the certificate does not name is. */
  uncovered: Level;
  /** What renews or replaces it: `pepkeys cert generate` serves only data_dir/tls, not tls.cert. */
  renew: string;
  now?: Date;
}

export function judgePair(pair: CertificatePair, hosts: readonly string[], opts: JudgeOptions): Finding[] {
  const now = opts.now ?? new Date();
  const leaf = pair.chain[0]!;
  const out: Finding[] = [];
  const C = 'certificate';
  if (pair.key && !leaf.checkPrivateKey(pair.key)) {
    out.push(error(C, `${pair.keySource} is not the private key of ${pair.source}: give the key the certificate was issued for`));
  }
  const names = dnsNames(leaf);
  for (const host of hosts) {
    if (covers(leaf, host)) continue;
    const has = names.length ? `it names ${names.join(', ')}` : `it names no DNS host (subject ${leaf.subject.replace(/\n/g, ', ')})`;
    out.push({ check: C, level: opts.uncovered, message: `${pair.source} does not cover ${host} (${has}), so clients refuse it for ${host}: ${opts.renew} naming ${host}` });
  }
  const notBefore = new Date(leaf.validFrom);
  const notAfter = new Date(leaf.validTo);
  if (notBefore > now) {
    out.push(error(C, `${pair.source} is not valid before ${notBefore.toISOString()}: check this machine's clock, or use a certificate valid now`));
  } else if (notAfter <= now) {
    out.push(error(C, `${pair.source} expired on ${day(notAfter)}: ${opts.renew}`));
  } else if (notAfter.getTime() - now.getTime() < EXPIRY_WARNING_DAYS * DAY_MS) {
    const days = Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS);
    out.push(warning(C, `${pair.source} expires on ${day(notAfter)} (in ${days} day${days === 1 ? '' : 's'}): ${opts.renew} before clients refuse it`));
  }
  for (let i = 0; i + 1 < pair.chain.length; i++) {
    const [child, parent] = [pair.chain[i]!, pair.chain[i + 1]!];
    if (!child.checkIssued(parent) || !child.verify(parent.publicKey)) {
      out.push(warning(C, `${pair.source}: certificate ${i + 2} did not issue certificate ${i + 1}; list the server's certificate first, then each intermediate in order`));
      break;
    }
  }
  if (out.length === 0) {
    const by = isSelfSigned(leaf) ? 'self-signed' : `issued by ${leaf.issuer.replace(/\n/g, ', ')}`;
    out.push(ok(C, `${pair.source} covers ${hosts.join(', ')}, ${by}, valid until ${day(notAfter)}, SHA-256 ${leaf.fingerprint256}`));
  }
  return out;
}
