// Prometheus metrics of one server (prom-client), kept out of the core: this service observes the server
// from outside, through its traffic observer (stanzas in and out), hooks (auth failures, PEP fan-outs),
// the storage's commit observer and, at scrape time, its session directory. The hot paths only add to
// plain numbers; the prom-client metrics are brought up to date when scraped.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { NS_CLIENT } from '../../protocol/rfc6120.ts';
import type { XmppServer } from '../core/server.ts';
import { KINDS, countStanzas } from './stanza-count.ts';

/** Commit latencies from a fraction of a millisecond (no fsync) to seconds (a struggling disk). */
const COMMIT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class ServerMetrics {
  readonly registry = new Registry();
  private readonly stanzasIn = [0, 0, 0];
  private readonly stanzasOut = [0, 0, 0];
  private published = 0;
  private notifications = 0;
  private readonly authFailures = new Map<string, number>();
  /** "kind reason outcome" → count. */
  private readonly undeliverable = new Map<string, number>();
  private readonly detachers: (() => void)[] = [];

  constructor(server: XmppServer) {
    const registry = this.registry;
    // Process CPU, memory, GC and nodejs_eventloop_lag_seconds, under their usual names.
    collectDefaultMetrics({ register: registry });
    const self = this;

    new Gauge({
      name: 'pepkeys_sessions',
      help: 'Bound client sessions, by served domain',
      labelNames: ['host'],
      registers: [registry],
      collect() {
        this.reset();
        const byHost = new Map<string, number>(server.hosts.map((h) => [h, 0]));
        for (const s of server.sessions.all()) byHost.set(s.jid.domain, (byHost.get(s.jid.domain) ?? 0) + 1);
        for (const [host, n] of byHost) this.set({ host }, n);
      },
    });
    new Gauge({
      name: 'pepkeys_connections',
      help: 'Open client connections, authenticated or not',
      registers: [registry],
      collect() {
        this.set(server.connectionStats().connections);
      },
    });
    const stanzaCounter = (name: string, help: string, counts: number[]) =>
      new Counter({
        name,
        help,
        labelNames: ['kind'],
        registers: [registry],
        collect() {
          this.reset();
          KINDS.forEach((kind, i) => this.inc({ kind }, counts[i]!));
        },
      });
    stanzaCounter('pepkeys_stanzas_in_total', 'Stanzas read from clients, by kind', this.stanzasIn);
    stanzaCounter('pepkeys_stanzas_out_total', 'Stanzas written to clients, by kind', this.stanzasOut);
    new Counter({
      name: 'pepkeys_pep_published_total',
      help: 'Items published to PEP nodes (counted once durable, when their notifications go out)',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(self.published);
      },
    });
    new Counter({
      name: 'pepkeys_pep_notifications_total',
      help: 'PEP event notifications sent to client sessions',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(self.notifications);
      },
    });
    new Counter({
      name: 'pepkeys_auth_failures_total',
      help: 'Failed SASL authentications, by SASL condition',
      labelNames: ['reason'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [reason, n] of self.authFailures) this.inc({ reason }, n);
      },
    });
    new Counter({
      name: 'pepkeys_cluster_undeliverable_total',
      help: 'Stanzas for a session on another cluster node that did not get there, by kind (headline = PEP notifications), reason (gone, unreachable) and outcome (rerouted, bounced, dropped)',
      labelNames: ['kind', 'reason', 'outcome'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [k, n] of self.undeliverable) {
          const [kind, reason, outcome] = k.split(' ') as [string, string, string];
          this.inc({ kind, reason, outcome }, n);
        }
      },
    });
    const commits = new Histogram({
      name: 'pepkeys_storage_commit_seconds',
      help: 'Group commits of the storage, from the start of the batch until it is durable',
      buckets: COMMIT_BUCKETS,
      registers: [registry],
    });

    this.detachers.push(
      server.observeTraffic({
        read: (_s, el) => {
          const i = el.name === 'message' ? 0 : el.name === 'presence' ? 1 : el.name === 'iq' ? 2 : -1;
          if (i >= 0 && el.ns === NS_CLIENT) this.stanzasIn[i]!++;
        },
        wrote: (_s, data) => countStanzas(data, this.stanzasOut),
      }),
      server.hooks.on('auth/failed', ({ condition }) => {
        this.authFailures.set(condition, (this.authFailures.get(condition) ?? 0) + 1);
      }),
      server.hooks.on('cluster/undeliverable', ({ kind, reason, outcome }) => {
        const k = `${kind} ${reason} ${outcome}`;
        this.undeliverable.set(k, (this.undeliverable.get(k) ?? 0) + 1);
      }),
      server.hooks.on('pep/fanout', ({ published, notifications }) => {
        this.published += published;
        this.notifications += notifications;
      }),
    );
    const stopCommits = server.storage.observeCommits?.((seconds) => commits.observe(seconds));
    if (stopCommits) this.detachers.push(stopCommits);
  }

  /** The Prometheus text exposition of every metric. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Stops observing the server. */
  detach(): void {
    for (const d of this.detachers.splice(0)) d();
  }
}
