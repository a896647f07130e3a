// A domain that keeps two verifiable maps (issue 14 Stage 2 adversarial tests): two real servers of `localhost`
// started on one data dir, so they sign with the same log key and VRF key, each with its own (memory) storage.
// Juliet publishes a different key item on each, so both maps reach epoch 1 with different roots; a client is
// shown one or the other by connecting to `a` or `b`.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startTestServer, rawSessions, type TestServer } from './server.ts';
import { defaultModules } from '../../src/server/modules/index.ts';
import { transparencyModule } from '../../src/server/modules/transparency/index.ts';
import { mapCatchesUp } from './kt-map.ts';

export const KEY_NODE = 'urn:xmpp:pubkey:2';
const publish = (id: string) => `<iq type='set'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='${KEY_NODE}'><item id='${id}'><pubkey xmlns='urn:xmpp:pubkey:2'/></item></publish></pubsub></iq>`;

export interface TwoMaps {
  a: TestServer;
  b: TestServer;
  /** Juliet publishes item `id` on `side` and its map catches up: resolves with the new epoch. */
  grow(side: 'a' | 'b', id: string): Promise<number>;
  stop(): Promise<void>;
}

/** Both servers, each map at epoch 1 (items a1 and b1); `users` all have password pw (juliet among them). */
export async function twoMapsOfOneDomain(dir: string, users: string[]): Promise<TwoMaps> {
  const start = () => startTestServer({
    users: Object.fromEntries(users.map((u) => [`${u}@localhost`, 'pw'])),
    modules: [...defaultModules(), transparencyModule({ dataDir: join(dir, 'data'), epochMs: 50 })],
  });
  const a = await start();
  const b = await start();
  const sessions = { a: rawSessions(() => a), b: rawSessions(() => b) };
  const grow = async (side: 'a' | 'b', id: string) => {
    const juliet = await sessions[side].login('juliet', `r-${id}`);
    assert.equal((await juliet.iq(publish(id))).attrs.type, 'result');
    return (await mapCatchesUp((xml) => juliet.iq(xml))).epoch;
  };
  assert.equal(await grow('a', 'a1'), 1);
  assert.equal(await grow('b', 'b1'), 1);
  return {
    a, b, grow,
    async stop() {
      sessions.a.destroyAll();
      sessions.b.destroyAll();
      await a.stop();
      await b.stop();
    },
  };
}
