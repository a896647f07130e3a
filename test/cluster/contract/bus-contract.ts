// The cluster bus contract: what every ClusterBus (local-bus.ts, nats/nats-bus.ts) must do, run by each
// implementation's test file against its own fabric (several connections to one hub or one NATS server).
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { BusNoResponders, BusTimeout, type ClusterBus } from '../../../src/cluster/index.ts';
import { until } from '../../helpers/until.ts';

/** Connections to one shared fabric. */
export interface BusFabric {
  connect(): Promise<ClusterBus>;
}

export function busContract(name: string, fabric: () => BusFabric): void {
  describe(`cluster bus contract: ${name}`, () => {
    const open: ClusterBus[] = [];
    const connect = async () => {
      const b = await fabric().connect();
      open.push(b);
      return b;
    };
    afterEach(async () => {
      for (const b of open.splice(0)) await b.close();
    });

    it('publish reaches every subscriber of the subject, on every connection, in publish order', async () => {
      const [a, b, c] = [await connect(), await connect(), await connect()];
      const got: Record<string, string[]> = { b: [], c: [] };
      b.subscribe('t.one', (d) => got.b!.push(d));
      c.subscribe('t.one', (d) => got.c!.push(d));
      c.subscribe('t.other', (d) => got.c!.push(`other:${d}`));
      await Promise.all([b.flush(), c.flush()]);
      for (let i = 0; i < 20; i++) a.publish('t.one', String(i));
      await until(() => got.b!.length === 20 && got.c!.length === 20, 'both subscribers got 20 messages');
      const expected = Array.from({ length: 20 }, (_, i) => String(i));
      assert.deepEqual(got.b, expected);
      assert.deepEqual(got.c, expected);
    });

    it('an unsubscribed handler gets nothing more', async () => {
      const [a, b] = [await connect(), await connect()];
      const got: string[] = [];
      const off = b.subscribe('t.unsub', (d) => got.push(d));
      b.subscribe('t.unsub.marker', (d) => got.push(d));
      await b.flush();
      a.publish('t.unsub', 'before');
      await until(() => got.length === 1, 'first message');
      off();
      await b.flush();
      a.publish('t.unsub', 'after');
      a.publish('t.unsub.marker', 'marker');
      await until(() => got.includes('marker'), 'marker');
      assert.deepEqual(got, ['before', 'marker']);
    });

    it('request gets the answer of a responder', async () => {
      const [a, b] = [await connect(), await connect()];
      b.subscribe('t.echo', (d, reply) => reply?.(`echo:${d}`));
      await until(async () => (await a.request('t.echo', 'x', 500).catch(() => '')) === 'echo:x', 'the responder answers');
      assert.equal(await a.request('t.echo', 'hello', 2000), 'echo:hello');
    });

    it('request with nobody subscribed fails at once with BusNoResponders', async () => {
      const a = await connect();
      await assert.rejects(a.request('t.nobody', 'x', 10_000), BusNoResponders);
    });

    it('request whose responder never answers fails with BusTimeout', async () => {
      const [a, b] = [await connect(), await connect()];
      b.subscribe('t.silent', () => undefined);
      await until(async () => {
        const r = await a.request('t.silent', 'x', 200).then(() => 'answered', (e) => e);
        return r instanceof BusTimeout;
      }, 'a timeout rather than no responders');
    });

    it('gather collects one answer per responder, and stops at the bound when one stays silent', async () => {
      const [a, b, c, d] = [await connect(), await connect(), await connect(), await connect()];
      b.subscribe('t.g', (_d, reply) => reply?.('b'));
      c.subscribe('t.g', (_d, reply) => reply?.('c'));
      await until(async () => (await a.gather('t.g', '', 2, 500)).length === 2, 'both responders answer');
      assert.deepEqual((await a.gather('t.g', 'x', 2, 5000)).sort(), ['b', 'c']);
      d.subscribe('t.g', () => undefined);
      await d.flush();
      assert.deepEqual((await a.gather('t.g', 'x', 3, 300)).sort(), ['b', 'c']);
    });

    it('a closed connection is closed and its subscriptions are gone', async () => {
      const [a, b] = [await connect(), await connect()];
      const states: string[] = [];
      b.onState((s) => states.push(s));
      b.subscribe('t.closing', (_d, reply) => reply?.('here'));
      await until(async () => (await a.request('t.closing', '', 500).catch(() => '')) === 'here', 'responder up');
      await b.close();
      assert.equal(b.state, 'closed');
      assert.deepEqual(states, ['closed']);
      await until(async () => (await a.request('t.closing', '', 500).catch((e) => e)) instanceof BusNoResponders, 'no responder after close');
    });
  });
}
