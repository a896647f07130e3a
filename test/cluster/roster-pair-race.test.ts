// Both directions of one roster pair's subscription exchange at the same moment, each processed on a
// different cluster node. capulet.lit runs on two nodes (n1, n2) on one PostgreSQL and NATS; montague.lit is
// a single federated server whose route names n1, so its stanzas are processed on n1, while the capulet.lit
// users are logged in on n2, where their own stanzas are processed. Each pair asks and approves at once, the
// two sides a few milliseconds apart (a spread of skews, so that some pairs fall in the window where both
// nodes read the same roster item before either wrote it). Every roster must end at "both", with no pending
// request either way: a pair lock held by one node only would let one read-modify-write overwrite the other.
// The same is done within capulet.lit, one user of each pair on each node.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { clusterAvailability, startClusterEnv, type ClusterEnv } from '../helpers/cluster.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { until } from '../helpers/until.ts';
import type { Storage } from '../../src/storage/types.ts';

const availability = clusterAvailability();
const PAIRS = 16;
/** Milliseconds the second side's stanzas lag the first's (negative: the other side goes first). */
const skew = (i: number) => -12 + 2 * i;

interface Side {
  jid: string;
  client: RawClient;
  storage: Storage;
}
type Pair = [Side, Side];

/** What one side's roster says of the other: '' when settled at "both" with nothing pending. */
async function unsettled(me: Side, other: Side): Promise<string> {
  const item = await me.storage.roster.getItem(me.jid, other.jid);
  const pending = (await me.storage.roster.listPendingIn(me.jid)).some((p) => p.from === other.jid);
  if (item?.subscription === 'both' && !item.ask && !pending) return '';
  return `${me.jid}→${other.jid}: ${item?.subscription ?? 'no item'}${item?.ask ? ' ask' : ''}${pending ? ' pending-in' : ''}`;
}

/** Sends `stanza(from, to)` from both sides of each pair, the second side skew(i) ms after the first. */
async function bothAtOnce(pairs: Pair[], type: string): Promise<void> {
  const sends: Promise<void>[] = [];
  const at = (ms: number, side: Side, to: Side) => new Promise<void>((r) => setTimeout(() => {
    side.client.send(`<presence to='${to.jid}' type='${type}'/>`);
    r();
  }, ms));
  for (const [i, [a, b]] of pairs.entries()) {
    sends.push(at(Math.max(0, -skew(i)), a, b), at(Math.max(0, skew(i)), b, a));
  }
  await Promise.all(sends);
}

async function exchange(pairs: Pair[]): Promise<void> {
  let last = '';
  await bothAtOnce(pairs, 'subscribe');
  // Both requests are stored on both sides before anyone approves.
  await until(async () => {
    for (const [a, b] of pairs) {
      for (const [me, other] of [[a, b], [b, a]] as const) {
        const item = await me.storage.roster.getItem(me.jid, other.jid);
        const pending = (await me.storage.roster.listPendingIn(me.jid)).some((p) => p.from === other.jid);
        if (item?.ask !== 'subscribe' || !pending) return (last = `${me.jid}→${other.jid}: ${item?.subscription} ${item?.ask} ${pending}`), false;
      }
    }
    return true;
  }, 'every request stored on both sides', 30_000).catch(() => assert.fail(`a request is missing: ${last}`));
  await bothAtOnce(pairs, 'subscribed');
  let left: string[] = [];
  try {
    await until(async () => {
      left = [];
      for (const [a, b] of pairs) left.push(await unsettled(a, b), await unsettled(b, a));
      left = left.filter((s) => s !== '');
      return left.length === 0;
    }, 'every roster at "both" with nothing pending', 15_000);
  } catch {
    assert.fail(`rosters left unsettled:\n${left.join('\n')}`);
  }
}

describe('one roster pair changed from both sides at once, on two cluster nodes', { skip: availability === 'skip' }, () => {
  let env: ClusterEnv | undefined;
  let mon: TestServer | undefined;
  const opened: RawClient[] = [];

  /** Logs in `PAIRS` pairs: user a<i> on server a, b<i> on server b; storage is where each roster is read. */
  async function pairsOf(a: [string, TestServer], b: [string, TestServer]): Promise<Pair[]> {
    const side = async ([name, t]: [string, TestServer], i: number): Promise<Side> => {
      const jid = name.replace('@', `${i}@`);
      const client = await RawClient.connect(t.port);
      opened.push(client);
      await client.login(jid, 'pw', 'r');
      return { jid, client, storage: t.storage };
    };
    const pairs: Pair[] = [];
    for (let i = 0; i < PAIRS; i++) pairs.push([await side(a, i), await side(b, i)]);
    return pairs;
  }

  before(async () => {
    const users: Record<string, string> = {};
    for (let i = 0; i < PAIRS; i++) {
      users[`nurse${i}@capulet.lit`] = 'pw';
      users[`juliet${i}@capulet.lit`] = 'pw';
      users[`tybalt${i}@capulet.lit`] = 'pw';
    }
    env = await startClusterEnv({ ids: ['n1', 'n2'], hosts: ['capulet.lit'], users, saslSecret: randomBytes(32), config: { s2s: { listen: ['127.0.0.1:0'] } } });
    const romeos: Record<string, string> = {};
    for (let i = 0; i < PAIRS; i++) romeos[`romeo${i}@montague.lit`] = 'pw';
    mon = await startTestServer({ hosts: ['montague.lit'], users: romeos, config: { s2s: { listen: ['127.0.0.1:0'] } } });
    for (const n of env.nodes) n.server.s2s!.routes['montague.lit'] = `127.0.0.1:${mon.s2sPort}`;
    // montague.lit's stanzas for capulet.lit all arrive at n1.
    mon.server.s2s!.routes['capulet.lit'] = `127.0.0.1:${env.nodes[0]!.s2sPort}`;
  });

  after(async () => {
    for (const c of opened) c.destroy();
    await mon?.stop();
    await env?.stop();
  });

  it('settles every federated pair at "both": the remote side on n1, the local user on n2', { timeout: 120_000 }, async () => {
    await exchange(await pairsOf(['nurse@capulet.lit', env!.nodes[1]!], ['romeo@montague.lit', mon!]));
  });

  it('settles every pair at "both" within one domain, one user of each pair on each node', { timeout: 120_000 }, async () => {
    await exchange(await pairsOf(['juliet@capulet.lit', env!.nodes[0]!], ['tybalt@capulet.lit', env!.nodes[1]!]));
  });
});
