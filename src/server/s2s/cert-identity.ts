// Whether a peer certificate names an XMPP domain (RFC 6125 §6 as profiled by RFC 6120 §13.7.1.2 and
// XEP-0178): a DNS-ID equal to the domain (a wildcard only as the whole left-most label, matching exactly
// one label), an SRV-ID `_xmpp-server.DOMAIN`, or an XmppAddr equal to the domain; the subject CN counts
// only when the certificate has no DNS-ID, SRV-ID or URI-ID at all (RFC 6125 §6.4.4).
import { domainToASCII } from 'node:url';

export interface CertNames {
  /** Node's `subjectaltname` text: "DNS:a.example, othername:SRVName:_xmpp-server.a.example, ...". */
  subjectaltname?: string;
  subject?: { CN?: string | string[] };
}

interface SanEntry {
  type: string;
  value: string;
}

/** Splits Node's SAN text; values with a comma or quote come JSON-quoted (Node ≥ 17.3.1, CVE-2021-44532). */
export function parseSubjectAltName(text: string | undefined): SanEntry[] {
  const out: SanEntry[] = [];
  if (!text) return out;
  const re = /(DNS|IP Address|URI|email|othername:[A-Za-z0-9.]+|DirName|Registered ID):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    let value = m[2]!;
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value) as string;
      } catch {
        continue;
      }
    }
    out.push({ type: m[1]!, value });
  }
  return out;
}

/** Lower-case A-label form of a domain, or undefined when it is not a usable DNS name. */
function normalise(name: string): string | undefined {
  const trimmed = name.trim().replace(/\.$/, '');
  if (!trimmed) return undefined;
  const ascii = domainToASCII(trimmed.toLowerCase());
  return ascii || undefined;
}

function dnsIdMatches(presented: string, domain: string): boolean {
  const p = presented.trim().toLowerCase().replace(/\.$/, '');
  if (p.startsWith('*.')) {
    // RFC 6125 §6.4.3: the wildcard is the whole left-most label and stands for exactly one label; a
    // wildcard over a single remaining label ("*.lit") would cover a whole top-level domain, so it never matches.
    const rest = normalise(p.slice(2));
    if (!rest || !rest.includes('.')) return false;
    const dot = domain.indexOf('.');
    return dot > 0 && domain.slice(dot + 1) === rest;
  }
  if (p.includes('*')) return false;
  return normalise(p) === domain;
}

export interface IdentityMatch {
  ok: boolean;
  /** Which identifier matched, or why none did, in plain words for the log. */
  how: string;
}

export function certificateNamesDomain(cert: CertNames, domainIn: string): IdentityMatch {
  const domain = normalise(domainIn);
  if (!domain) return { ok: false, how: `"${domainIn}" is not a domain name` };
  const san = parseSubjectAltName(cert.subjectaltname);
  for (const e of san) {
    if (e.type === 'DNS' && dnsIdMatches(e.value, domain)) return { ok: true, how: `DNS-ID ${e.value}` };
    // SRV-IDs never carry wildcards (RFC 6125 §6.4.1 applies to the DNS domain part only, XEP-0178 §3).
    if (e.type === 'othername:SRVName' && e.value.toLowerCase().startsWith('_xmpp-server.') && normalise(e.value.slice('_xmpp-server.'.length)) === domain) {
      return { ok: true, how: `SRV-ID ${e.value}` };
    }
    if (e.type === 'othername:XmppAddr' && normalise(e.value) === domain) return { ok: true, how: `XmppAddr ${e.value}` };
  }
  const hasIds = san.some((e) => e.type === 'DNS' || e.type === 'URI' || e.type === 'othername:SRVName');
  if (!hasIds) {
    const cns = cert.subject?.CN === undefined ? [] : Array.isArray(cert.subject.CN) ? cert.subject.CN : [cert.subject.CN];
    for (const cn of cns) if (dnsIdMatches(cn, domain)) return { ok: true, how: `subject CN ${cn} (no subjectAltName identifiers)` };
  }
  const names = san.filter((e) => e.type === 'DNS' || e.type.startsWith('othername:')).map((e) => e.value);
  return { ok: false, how: `the certificate names ${names.length ? names.join(', ') : `only CN ${String(cert.subject?.CN ?? '(none)')}`}, not ${domain}` };
}
