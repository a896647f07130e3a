// Two servers that start talking to each other at the same moment: each one's dialback check of the other
// travels on the stream the other is verifying on, so neither may hold its inbound stream while it waits
// (else both wait for each other until the timeout and bounce everything).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rawSessions, type TestServer } from '../../helpers/server.ts';
import { startFederatedPair } from '../../helpers/federation.ts';

describe('dialback in both directions at once', () => {
  let cap: TestServer;
  let mon: TestServer;
  const capUsers = rawSessions(() => cap);
  const monUsers = rawSessions(() => mon);

  before(async () => {
    ({ cap, mon } = await startFederatedPair({ 'juliet@capulet.lit': 'pw' }, { 'romeo@montague.lit': 'pw' }, { connect_timeout_seconds: 5 }));
  });
  after(async () => {
    capUsers.destroyAll();
    monUsers.destroyAll();
    await cap?.stop();
    await mon?.stop();
  });

  it('delivers messages sent both ways before any link exists', async () => {
    const juliet = await capUsers.login('juliet', 'balcony', 'pw', 'capulet.lit');
    const romeo = await monUsers.login('romeo', 'orchard', 'pw', 'montague.lit');
    for (let i = 0; i < 3; i++) {
      juliet.send(`<message to='romeo@montague.lit/orchard' type='chat' id='j${i}'><body>j</body></message>`);
      romeo.send(`<message to='juliet@capulet.lit/balcony' type='chat' id='r${i}'><body>r</body></message>`);
    }
    for (let i = 0; i < 3; i++) {
      const atRomeo = await romeo.waitStanza((e) => e.attrs.id === `j${i}`, 10_000);
      assert.equal(atRomeo.attrs.type, 'chat', atRomeo.toString());
      const atJuliet = await juliet.waitStanza((e) => e.attrs.id === `r${i}`, 10_000);
      assert.equal(atJuliet.attrs.type, 'chat', atJuliet.toString());
    }
  });
});
