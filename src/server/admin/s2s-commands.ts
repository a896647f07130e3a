// Admin commands for federation: `pepkeys s2s status` (the links and streams, with their direction,
// authentication, queue and age) and `pepkeys check s2s DOMAIN` (a probe run by the server itself, which has
// the dialback keys, the routes, and is the one the remote server calls back to verify our key).
import { z } from 'zod';
import type { XmppServer } from '../core/server.ts';
import type { ProbeResult } from '../s2s/probe.ts';
import { AdminError } from './errors.ts';

export interface S2sLinkStatus {
  direction: 'outbound' | 'inbound';
  local?: string;
  remote: string;
  authenticated: boolean;
  /** 'dialback', ... ; absent until authenticated. */
  method?: string;
  /** Stanzas waiting for the link (outbound only). */
  queued: number;
  ageSeconds: number;
  address?: string;
}

export interface S2sStatusReport {
  enabled: boolean;
  links: S2sLinkStatus[];
}

const domain = z.string().min(1).max(1023).regex(/^[^@/\s]+$/, 'a domain, without user or resource');

export function registerS2sAdminCommands(server: XmppServer): void {
  server.admin.register('s2s.status', z.strictObject({}), (): S2sStatusReport => {
    const s2s = server.s2s;
    if (!s2s) return { enabled: false, links: [] };
    const now = Date.now();
    const age = (since: number) => Math.max(0, Math.round((now - since) / 1000));
    const st = s2s.status();
    const links: S2sLinkStatus[] = st.outbound.map((l) => ({
      direction: 'outbound', local: l.local, remote: l.remote, authenticated: l.authenticated, method: l.method, queued: l.queued, ageSeconds: age(l.since),
    }));
    for (const i of st.inbound) {
      // A stream on which no domain authenticated yet still shows, by its address.
      const domains = i.domains.length ? i.domains : [''];
      for (const d of domains) links.push({ direction: 'inbound', remote: d, authenticated: d !== '', method: i.methods[d], queued: 0, ageSeconds: age(i.since), address: i.address });
    }
    return { enabled: true, links };
  });

  server.admin.register('s2s.check', z.strictObject({ domain, from: domain.optional() }), async ({ domain: remote, from }): Promise<ProbeResult> => {
    const s2s = server.s2s;
    if (!s2s) throw new AdminError('not-enabled', 'federation is off on this server: give [s2s] listen an address');
    const local = (from ?? server.hosts[0]!).toLowerCase();
    if (!server.isLocalDomain(local)) throw new AdminError('not-found', `${local} is not served here`);
    if (server.isLocalDomain(remote.toLowerCase())) throw new AdminError('bad-request', `${remote} is served here; name another server's domain`);
    return s2s.probe(remote.toLowerCase(), local);
  });
}
