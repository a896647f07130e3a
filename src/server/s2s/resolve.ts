// Where to connect for a remote domain (RFC 6120 §3.2): a static route if configured, else DNS SRV
// `_xmpps-server._tcp` (direct TLS, XEP-0368) and `_xmpp-server._tcp` (STARTTLS) mixed into one set ordered
// by priority and weight (RFC 2782), else the domain itself on port 5269 (its A/AAAA records, looked up by
// the connect).
import { promises as dns } from 'node:dns';
import type { SrvRecord } from 'node:dns';
import { parseHostPort } from '../config.ts';

export interface Target {
  host: string;
  port: number;
  /** TLS from the first byte (an `_xmpps-server` record), with SNI and ALPN xmpp-server; else STARTTLS. */
  directTls?: true;
}

/** The DNS query used; injected so resolution is tested without a network. */
export type SrvLookup = (name: string) => Promise<SrvRecord[]>;

export const systemSrvLookup: SrvLookup = (name) => dns.resolveSrv(name);

const NO_RECORDS = new Set(['ENOTFOUND', 'ENODATA', 'ENONAME', 'NXDOMAIN']);

async function srv(lookup: SrvLookup, name: string): Promise<SrvRecord[]> {
  try {
    return await lookup(name);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (!NO_RECORDS.has(code)) throw err;
    return [];
  }
}

/** RFC 2782: a single record with target "." means the service is decidedly not available. */
const isDot = (records: SrvRecord[]) => records.length === 1 && (records[0]!.name === '.' || records[0]!.name === '');

export async function resolveTargets(domain: string, routes: Readonly<Record<string, string>>, lookup: SrvLookup, random = Math.random): Promise<Target[]> {
  const route = routes[domain];
  if (route !== undefined) return [parseHostPort(route)];
  const [direct, starttls] = await Promise.all([srv(lookup, `_xmpps-server._tcp.${domain}`), srv(lookup, `_xmpp-server._tcp.${domain}`)]);
  // XEP-0368 §4: "." for xmpps means no direct TLS (the xmpp records still count) and, as any SRV answer,
  // rules out the A/AAAA fallback.
  if (direct.length === 0 && starttls.length === 0) return [{ host: domain, port: 5269 }];
  const tagged = new Map<SrvRecord, boolean>();
  if (!isDot(direct)) for (const r of direct) tagged.set(r, true);
  if (!isDot(starttls)) for (const r of starttls) tagged.set(r, false);
  return orderSrv([...tagged.keys()], random).map((r) => (tagged.get(r) ? { host: r.name, port: r.port, directTls: true as const } : { host: r.name, port: r.port }));
}

/** RFC 2782 order: ascending priority; within one, a weighted random pick, repeatedly. */
export function orderSrv(records: SrvRecord[], random = Math.random): SrvRecord[] {
  const byPriority = new Map<number, SrvRecord[]>();
  for (const r of records) byPriority.set(r.priority, [...(byPriority.get(r.priority) ?? []), r]);
  const out: SrvRecord[] = [];
  for (const prio of [...byPriority.keys()].sort((a, b) => a - b)) {
    // Zero-weight records first, so they have a small chance of being picked (RFC 2782).
    const left = byPriority.get(prio)!.sort((a, b) => a.weight - b.weight);
    while (left.length) {
      const total = left.reduce((n, r) => n + r.weight, 0);
      const n = Math.floor(random() * (total + 1));
      let sum = 0;
      let i = 0;
      for (; i < left.length - 1; i++) {
        sum += left[i]!.weight;
        if (sum >= n) break;
      }
      out.push(left.splice(i, 1)[0]!);
    }
  }
  return out;
}
