// An s2s link that carries nothing for s2s.idle_timeout_seconds is closed on both sides, and the next
// stanza opens (and authenticates) a new one.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rawSessions, type TestServer } from '../../helpers/server.ts';
import { startFederatedPair } from '../../helpers/federation.ts';

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('idle server-to-server links', () => {
  let cap: TestServer;
  let mon: TestServer;
  const capUsers = rawSessions(() => cap);
  const monUsers = rawSessions(() => mon);

  before(async () => {
    ({ cap, mon } = await startFederatedPair({ 'juliet@capulet.lit': 'pw' }, { 'romeo@montague.lit': 'pw' }, { idle_timeout_seconds: 1 }));
  });
  after(async () => {
    capUsers.destroyAll();
    monUsers.destroyAll();
    await cap?.stop();
    await mon?.stop();
  });

  it('closes an idle link and opens a new one for the next stanza', async () => {
    const juliet = await capUsers.login('juliet', 'balcony', 'pw', 'capulet.lit');
    const romeo = await monUsers.login('romeo', 'orchard', 'pw', 'montague.lit');
    juliet.send(`<message to='romeo@montague.lit/orchard' type='chat' id='before'><body>1</body></message>`);
    await romeo.waitStanza((e) => e.attrs.id === 'before');
    await until(() => cap.server.s2s!.status().outbound.length === 0 && mon.server.s2s!.status().inbound.length === 0, 'the idle link to close');
    juliet.send(`<message to='romeo@montague.lit/orchard' type='chat' id='after'><body>2</body></message>`);
    const m = await romeo.waitStanza((e) => e.attrs.id === 'after');
    assert.equal(m.attrs.type, 'chat');
    assert.equal(cap.server.s2s!.status().outbound.find((l) => l.remote === 'montague.lit')?.authenticated, true);
  });
});
