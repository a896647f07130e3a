// Where to connect for a remote domain (RFC 6120 §3.2): a static route if configured, else DNS SRV
// _xmpp-server._tcp ordered by priority and weight (RFC 2782), else the domain itself on port 5269
// (its A/AAAA records, looked up by the connect).
import { promises as dns } from 'node:dns';
import type { SrvRecord } from 'node:dns';
import { parseHostPort } from '../config.ts';

export interface Target {
  host: string;
  port: number;
}

/** The DNS query used; injected so resolution is tested without a network. */
export type SrvLookup = (name: string) => Promise<SrvRecord[]>;

export const systemSrvLookup: SrvLookup = (name) => dns.resolveSrv(name);

const NO_RECORDS = new Set(['ENOTFOUND', 'ENODATA', 'ENONAME', 'NXDOMAIN']);

export async function resolveTargets(domain: string, routes: Readonly<Record<string, string>>, lookup: SrvLookup, random = Math.random): Promise<Target[]> {
  const route = routes[domain];
  if (route !== undefined) return [parseHostPort(route)];
  let records: SrvRecord[];
  try {
    records = await lookup(`_xmpp-server._tcp.${domain}`);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (!NO_RECORDS.has(code)) throw err;
    records = [];
  }
  if (records.length === 0) return [{ host: domain, port: 5269 }];
  // RFC 2782: a single record with target "." means the service is decidedly not available.
  if (records.length === 1 && (records[0]!.name === '.' || records[0]!.name === '')) return [];
  return orderSrv(records, random).map((r) => ({ host: r.name, port: r.port }));
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
