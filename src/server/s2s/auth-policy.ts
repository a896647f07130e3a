// Who may authenticate how (XEP-0178, XEP-0220 with XEP-0344's rules), per remote domain:
// - a certificate that verifies and names the domain is always enough;
// - otherwise dialback, over TLS, unless `s2s.secure_auth` requires certificates;
// - `s2s.insecure_domains` may use dialback without a valid certificate (and without TLS when
//   `require_tls` is off) whatever `secure_auth` says.
// Every decision is logged with the domain, the direction, the method and the reason.
import type { Logger } from '../core/logger.ts';
import type { CertCheck } from './trust-store.ts';

export interface PolicyConfig {
  secure_auth: boolean;
  insecure_domains: readonly string[];
}

export type AuthMethod = 'certificate' | 'dialback';

export type Decision =
  | { allow: true; method: AuthMethod; reason: string }
  /** `condition`: the XEP-0220 §2.4 dialback error for the refusal. */
  | { allow: false; condition: 'not-authorized' | 'policy-violation'; reason: string };

export class AuthPolicy {
  private readonly insecure: Set<string>;

  constructor(private readonly c: PolicyConfig, private readonly logger: Logger) {
    this.insecure = new Set(c.insecure_domains.map((d) => d.toLowerCase()));
  }

  isInsecureAllowed(domain: string): boolean {
    return this.insecure.has(domain.toLowerCase());
  }

  /** How a remote domain may prove itself on a stream, given its certificate and whether the stream is encrypted. */
  decide(domain: string, cert: CertCheck | undefined, encrypted: boolean): Decision {
    if (encrypted && cert?.valid) return { allow: true, method: 'certificate', reason: cert.reason };
    const why = !encrypted ? 'the stream is not encrypted' : cert ? cert.reason : 'no certificate checked';
    if (this.isInsecureAllowed(domain)) return { allow: true, method: 'dialback', reason: `${why}; ${domain} is in s2s.insecure_domains` };
    // XEP-0344 §2.1: dialback only over TLS.
    if (!encrypted) return { allow: false, condition: 'policy-violation', reason: `${why}; dialback needs TLS` };
    if (this.c.secure_auth) return { allow: false, condition: 'not-authorized', reason: `${why}; s2s.secure_auth requires a valid certificate` };
    return { allow: true, method: 'dialback', reason: `${why}; falling back to dialback` };
  }

  /** Logs one decision (what an operator greps for when a peer is refused). */
  log(direction: 'inbound' | 'outbound', local: string, remote: string, d: Decision, extra: Record<string, unknown> = {}): void {
    const fields = { direction, local, remote, ...extra, reason: d.reason };
    if (d.allow) this.logger.info({ ...fields, method: d.method }, 's2s authentication policy: allowed');
    else this.logger.warn({ ...fields, condition: d.condition }, 's2s authentication policy: refused');
  }
}
