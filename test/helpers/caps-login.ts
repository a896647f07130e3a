// Logs a raw client in and announces XEP-0115 caps with +notify interests, then waits until the server has
// verified them, so that PEP notifications filtered by interest reach it from the next publish on.
import type { TestServer } from './server.ts';
import { RawClient } from './raw-client.ts';
import type { CapsService } from '../../src/server/modules/caps/index.ts';

export async function loginWithInterests(t: TestServer, opened: RawClient[], user: string, resource: string, notify: string[] = [], domain = 'localhost'): Promise<RawClient> {
  const c = await RawClient.connect(t.port);
  opened.push(c);
  await c.login(`${user}@${domain}`, 'pw', resource);
  c.sendPresenceWithCaps(notify.map((n) => `${n}+notify`));
  const caps = t.server.service<CapsService>('caps')!;
  for (let i = 0; i < 300 && !caps.features(`${user}@${domain}/${resource}`); i++) await new Promise((r) => setTimeout(r, 10));
  return c;
}
