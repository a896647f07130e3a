// The session directory contract of a cluster: three ClusterSessionDirectory nodes on one bus fabric see
// each other's sessions, deliver across nodes in batches, resolve a resource conflict, drop a dead node's
// sessions within the lease, and acknowledge cache invalidations. Run against the in-process bus and NATS.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { parseJid, type Jid } from '../../../src/jid/index.ts';
import { parseXml, type Element } from '../../../src/xml/index.ts';
import type { StreamErrorCondition } from '../../../src/protocol/rfc6120.ts';
import {
  asJson, ClusterSessionDirectory, createSessionKey, type ClusterBus, type ModuleSession, type SessionKey,
} from '../../../src/cluster/index.ts';
import { until } from '../../helpers/until.ts';
import type { BusFabric } from './bus-contract.ts';

/** A bound session as the directory sees it, recording what it is sent (the connection is not the subject). */
class TestSession implements ModuleSession {
  readonly jid: Jid;
  available = false;
  priority = 0;
  presence: Element | undefined;
  received: string[] = [];
  ended: StreamErrorCondition | undefined;
  private readonly state = new Map<SessionKey<unknown>, unknown>();
  constructor(full: string, private readonly dir: ClusterSessionDirectory) {
    this.jid = parseJid(full);
  }
  get isClosed() {
    return this.ended !== undefined;
  }
  deliver(stanza: Element | string) {
    this.received.push(stanza.toString());
  }
  get<T>(key: SessionKey<T>) {
    return this.state.get(key) as T | undefined;
  }
  set<T>(key: SessionKey<T>, v: T) {
    this.state.set(key, v);
    if (key.shared) this.dir.changed(this);
  }
  delete(key: SessionKey<unknown>) {
    this.state.delete(key);
  }
  sharedState() {
    const out: Record<string, unknown> = {};
    for (const [k, v] of this.state) if (k.shared) out[k.name] = k.shared.encode(v as never);
    return out;
  }
  end(condition: StreamErrorCondition) {
    this.ended = condition;
    this.dir.unregister(this);
  }
}

const Shared = createSessionKey<{ n: number }>('test-shared', asJson);

interface Node {
  dir: ClusterSessionDirectory;
  bus: ClusterBus;
  lost: { jids: string[]; reap: boolean }[];
  undeliverable: { to: string; reason: string }[];
}

export function directoryContract(name: string, fabric: () => BusFabric): void {
  describe(`cluster session directory contract: ${name}`, () => {
    const nodes: Node[] = [];
    afterEach(async () => {
      for (const n of nodes.splice(0)) await n.dir.stop();
    });

    async function node(id: string): Promise<Node> {
      const n: Node = { dir: undefined as never, bus: await fabric().connect(), lost: [], undeliverable: [] };
      n.dir = new ClusterSessionDirectory({ nodeId: id, heartbeatMs: 100, leaseMs: 600, requestTimeoutMs: 1000, invalidationTimeoutMs: 1000, maxQueued: 100 }, {
        sessionsLost: (s, reap) => n.lost.push({ jids: s.map((x) => x.jid.full), reap }),
        undeliverable: (to, _xml, reason) => n.undeliverable.push({ to, reason }),
      });
      await n.dir.start(n.bus);
      nodes.push(n);
      return n;
    }
    async function cluster(...ids: string[]): Promise<Node[]> {
      const ns: Node[] = [];
      for (const id of ids) ns.push(await node(id));
      await until(() => ns.every((n) => n.dir.status().nodes.length === ids.length), 'every node sees every node');
      return ns;
    }
    const bind = (n: Node, full: string) => {
      const s = new TestSession(full, n.dir);
      n.dir.register(s);
      return s;
    };

    it('a session bound on one node is seen on the others, with its presence and shared state, until it ends', async () => {
      const [a, b, c] = await cluster('a', 'b', 'c');
      const juliet = bind(a!, 'juliet@capulet.lit/balcony');
      juliet.available = true;
      juliet.priority = 5;
      juliet.presence = parseXml('<presence><show>away</show></presence>');
      juliet.set(Shared, { n: 7 });
      for (const n of [b!, c!]) {
        await until(() => n.dir.get('juliet@capulet.lit/balcony')?.priority === 5, `${n.dir.nodeId} sees juliet`);
        const r = n.dir.get('juliet@capulet.lit/balcony')!;
        assert.equal(r.available, true);
        assert.equal(r.presence?.getChildText('show'), 'away');
        assert.deepEqual(r.get(Shared), { n: 7 });
        assert.deepEqual(n.dir.resources('juliet@capulet.lit').map((s) => s.jid.full), ['juliet@capulet.lit/balcony']);
        assert.equal(n.dir.size, 0, 'size counts local sessions only');
      }
      a!.dir.unregister(juliet);
      await until(() => !b!.dir.get('juliet@capulet.lit/balcony') && !c!.dir.get('juliet@capulet.lit/balcony'), 'gone everywhere');
    });

    it('a node joining later learns the sessions already bound', async () => {
      const [a] = await cluster('a');
      bind(a!, 'romeo@montague.lit/orchard');
      const late = await node('late');
      await until(() => late.dir.get('romeo@montague.lit/orchard') !== undefined, 'the late node sees romeo');
    });

    it('stanzas for sessions on another node arrive there, one bus message per node per batch', async () => {
      const [a, b, c] = await cluster('a', 'b', 'c');
      const onB = [bind(b!, 'u1@x.lit/r'), bind(b!, 'u2@x.lit/r')];
      const onC = [bind(c!, 'u3@x.lit/r')];
      await until(() => ['u1@x.lit/r', 'u2@x.lit/r', 'u3@x.lit/r'].every((j) => a!.dir.get(j)), 'a sees all');
      const batches: Record<string, number> = { b: 0, c: 0 };
      const spy = await fabric().connect();
      try {
        spy.subscribe('pepkeys.node.b.in', () => batches.b!++);
        spy.subscribe('pepkeys.node.c.in', () => batches.c!++);
        await spy.flush();
        for (const j of ['u1@x.lit/r', 'u2@x.lit/r', 'u3@x.lit/r']) for (let i = 0; i < 3; i++) a!.dir.get(j)!.deliver(`<message to="${j}" id="m${i}"/>`);
        await until(() => [...onB, ...onC].every((s) => s.received.length === 3), 'every session got its three messages');
        assert.deepEqual(onB[0]!.received, [0, 1, 2].map((i) => `<message to="u1@x.lit/r" id="m${i}"/>`));
        assert.deepEqual(batches, { b: 1, c: 1 });
      } finally {
        await spy.close();
      }
    });

    it('a stanza for a session that ended meanwhile comes back as undeliverable (gone)', async () => {
      const [a, b] = await cluster('a', 'b');
      const s = bind(b!, 'gone@x.lit/r');
      await until(() => a!.dir.get('gone@x.lit/r') !== undefined, 'a sees it');
      const remote = a!.dir.get('gone@x.lit/r')!;
      // Ended on b; a has not heard yet when it sends.
      s.ended = 'conflict';
      (b!.dir as unknown as { local: { unregister(s: ModuleSession): void } }).local.unregister(s);
      remote.deliver('<message to="gone@x.lit/r"/>');
      await until(() => a!.undeliverable.length === 1, 'bounced');
      assert.deepEqual(a!.undeliverable, [{ to: 'gone@x.lit/r', reason: 'gone' }]);
    });

    it('RFC 6120 §7.7.2.2 across nodes: the newer session with a full JID wins, the older gets conflict', async () => {
      const [a, b, c] = await cluster('a', 'b', 'c');
      const old = bind(a!, 'nurse@capulet.lit/phone');
      await until(() => b!.dir.get('nurse@capulet.lit/phone') !== undefined, 'b sees the first session');
      await new Promise((r) => setTimeout(r, 5)); // a later bind time
      const newer = bind(b!, 'nurse@capulet.lit/phone');
      await until(() => old.ended !== undefined, 'the old session is ended');
      assert.equal(old.ended, 'conflict');
      assert.equal(newer.ended, undefined);
      await until(() => (c!.dir.get('nurse@capulet.lit/phone') as { node?: string } | undefined)?.node === 'b', 'c routes to b');
      assert.equal(a!.dir.get('nurse@capulet.lit/phone')?.isClosed, false);
    });

    it('a node that stops beating is gone within its lease: its sessions vanish and one node reaps them', async () => {
      const [a, b, c] = await cluster('a', 'b', 'c');
      bind(c!, 'victim@x.lit/r');
      await until(() => !!a!.dir.get('victim@x.lit/r') && !!b!.dir.get('victim@x.lit/r'), 'seen');
      // A crash: the bus connection goes, without the goodbye of stop().
      nodes.splice(nodes.indexOf(c!), 1);
      await c!.bus.close();
      await until(() => !a!.dir.get('victim@x.lit/r') && !b!.dir.get('victim@x.lit/r'), 'dropped everywhere');
      assert.deepEqual([...a!.lost, ...b!.lost].filter((l) => l.reap).map((l) => l.jids), [['victim@x.lit/r']], 'exactly one node reaps');
      assert.equal(a!.lost[0]?.reap, true, 'the lowest node id reaps');
      await c!.dir.stop();
    });

    it('invalidate resolves once every other node has run its handlers', async () => {
      const [a, b, c] = await cluster('a', 'b', 'c');
      const seen: string[] = [];
      for (const n of [b!, c!]) {
        n.dir.onInvalidate('roster', async (d) => {
          await new Promise((r) => setTimeout(r, 30));
          seen.push(`${n.dir.nodeId}:${JSON.stringify(d)}`);
        });
      }
      a!.dir.onInvalidate('roster', () => void seen.push('a: own change must not come back'));
      await a!.dir.invalidate('roster', { owner: 'juliet@capulet.lit' });
      assert.deepEqual(seen.sort(), ['b:{"owner":"juliet@capulet.lit"}', 'c:{"owner":"juliet@capulet.lit"}']);
    });

    it('status lists the nodes, their sessions and the bus state', async () => {
      const [a, b] = await cluster('a', 'b');
      bind(b!, 'x@x.lit/1');
      bind(b!, 'x@x.lit/2');
      await until(() => a!.dir.status().nodes.find((n) => n.id === 'b')?.sessions === 2, 'a counts b\'s sessions');
      const st = a!.dir.status();
      assert.equal(st.bus, 'connected');
      assert.deepEqual(st.nodes.map((n) => [n.id, n.self, n.sessions]), [['a', true, 0], ['b', false, 2]]);
    });
  });
}
