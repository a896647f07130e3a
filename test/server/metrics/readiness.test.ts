// /readyz follows the server's life: 503 before its listeners are bound, 200 while it serves, 503 again
// from the moment it starts stopping; /healthz answers 200 throughout (the process is alive).
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { XmppServer } from '../../../src/server/core/server.ts';
import { parseConfig } from '../../../src/server/config.ts';
import { defaultModules } from '../../../src/server/modules/index.ts';
import { createLogger } from '../../../src/server/core/logger.ts';
import { createMemoryStorage } from '../../../src/storage/memory/index.ts';
import { HttpListener } from '../../../src/server/http/listener.ts';
import { addOperatorEndpoints } from '../../../src/server/http/operator-endpoints.ts';

describe('/readyz', () => {
  const http = new HttpListener(createLogger('silent'));
  after(() => http.close());

  it('is 503 while starting and stopping, 200 while serving', async () => {
    const config = parseConfig({ hosts: ['localhost'], log_level: 'silent', c2s: { listen: ['127.0.0.1:0'] } });
    const server = new XmppServer({ config, storage: createMemoryStorage(), modules: defaultModules() });
    addOperatorEndpoints(http, { ready: () => server.state === 'ready' });
    const base = `http://127.0.0.1:${(await http.listen('127.0.0.1:0')).port}`;
    const status = async (path: string) => (await fetch(`${base}${path}`)).status;

    assert.equal(await status('/readyz'), 503);
    assert.equal(await status('/healthz'), 200);
    // Metrics were not enabled on this listener.
    assert.equal(await status('/metrics'), 404);
    await server.start();
    assert.equal(await status('/readyz'), 200);
    const stopping = server.stop();
    assert.equal(server.state, 'stopping');
    assert.equal(await status('/readyz'), 503);
    await stopping;
    assert.equal(await status('/readyz'), 503);
    assert.equal(await status('/healthz'), 200);
  });
});
