// The operators' endpoints: /healthz (the process answers), /readyz (storage open and client listeners
// bound: 503 while starting or stopping) and /metrics (Prometheus text, when enabled).
import type { HttpListener } from './listener.ts';
import { reply } from './listener.ts';
import type { ServerMetrics } from '../metrics/server-metrics.ts';

export interface OperatorEndpoints {
  /** True once the server may take traffic (XmppServer.state === 'ready'). */
  ready(): boolean;
  /** The metrics once the server exists; undefined: /metrics answers 503 (or 404 when disabled). */
  metrics?: () => ServerMetrics | undefined;
}

export function addOperatorEndpoints(http: HttpListener, e: OperatorEndpoints): void {
  http.route('GET', '/healthz', (_req, res) => reply(res, 200, 'ok\n'));
  http.route('GET', '/readyz', (_req, res) => (e.ready() ? reply(res, 200, 'ready\n') : reply(res, 503, 'not ready\n')));
  const metrics = e.metrics;
  if (metrics) {
    http.route('GET', '/metrics', async (_req, res) => {
      const m = metrics();
      if (!m) return reply(res, 503, 'starting\n');
      reply(res, 200, await m.scrape(), m.contentType);
    });
  }
}
