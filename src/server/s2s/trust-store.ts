// Which server certificates pepkeys trusts (XEP-0178 / RFC 6125): the system CAs plus `s2s.trusted_certs`,
// whose entries are PEM files (extra CAs, for a private federation or a test CA) or pinned certificate
// fingerprints ("sha256:AB:CD:..."), for a peer whose certificate no CA vouches for.
import { readFileSync } from 'node:fs';
import { rootCertificates, type PeerCertificate, type TLSSocket } from 'node:tls';
import { certificateNamesDomain } from './cert-identity.ts';

export interface CertCheck {
  /** The chain is trusted (or the certificate pinned), it is current, and it names the domain. */
  valid: boolean;
  /** What was checked, in plain words: the matching identifier, or why it does not count. */
  reason: string;
}

const PIN = /^sha256:((?:[0-9a-f]{2}:?){32})$/i;

export function isPin(entry: string): boolean {
  return PIN.test(entry.trim());
}

/** "sha256:abcd..." (colons optional) in Node's fingerprint256 form "AB:CD:...". */
function pinToFingerprint(entry: string): string {
  const hex = PIN.exec(entry.trim())![1]!.replace(/:/g, '').toUpperCase();
  return hex.match(/../g)!.join(':');
}

export class TrustStore {
  /** The CA certificates (PEM) handed to TLS for chain verification. */
  readonly ca: string[];
  private readonly pins = new Set<string>();

  constructor(entries: readonly string[], read: (path: string) => string = (p) => readFileSync(p, 'utf8')) {
    const extra: string[] = [];
    for (const e of entries) {
      if (/^sha256:/i.test(e.trim()) && !isPin(e)) throw new Error(`s2s.trusted_certs: "${e}" is not a SHA-256 fingerprint (sha256: and 32 hex bytes, colons optional)`);
      if (isPin(e)) {
        this.pins.add(pinToFingerprint(e));
        continue;
      }
      let pem: string;
      try {
        pem = read(e);
      } catch (err) {
        throw new Error(`s2s.trusted_certs: cannot read "${e}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      const certs = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
      if (!certs) throw new Error(`s2s.trusted_certs: "${e}" holds no PEM certificate (give a PEM file or sha256:FINGERPRINT)`);
      extra.push(...certs);
    }
    this.ca = [...rootCertificates, ...extra];
  }

  /** Checks the certificate a TLS peer presented against `domain`. */
  check(socket: TLSSocket, domain: string): CertCheck {
    const cert = socket.getPeerCertificate();
    if (!cert || Object.keys(cert).length === 0) return { valid: false, reason: 'the peer presented no certificate' };
    return this.checkCertificate(cert, socket.authorized, socket.authorizationError, domain);
  }

  checkCertificate(cert: PeerCertificate, chainTrusted: boolean, chainError: Error | string | null | undefined, domain: string): CertCheck {
    const pinned = this.pins.has(cert.fingerprint256);
    if (!chainTrusted && !pinned) {
      const code = typeof chainError === 'string' ? chainError : chainError?.message ?? 'untrusted';
      return { valid: false, reason: `certificate not trusted (${code})` };
    }
    if (pinned) {
      // A pin stands in for the CA, not for the validity period.
      const now = Date.now();
      if (now < Date.parse(cert.valid_from) || now > Date.parse(cert.valid_to)) return { valid: false, reason: `pinned certificate outside its validity (${cert.valid_from} to ${cert.valid_to})` };
    }
    const id = certificateNamesDomain(cert, domain);
    if (!id.ok) return { valid: false, reason: `certificate name mismatch: ${id.how}` };
    return { valid: true, reason: `${pinned ? 'pinned certificate' : 'trusted certificate'}, ${id.how}` };
  }
}
