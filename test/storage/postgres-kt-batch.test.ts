// The PostgreSQL adapter appends a group-commit transaction's key events together, at its end, before COMMIT
// (storage/postgres/transparency.ts): leaves consecutive and in the order of the writes; a write that fails
// alone (in its own statements or at the append) leaves no leaf and takes no number; a transaction that
// cannot commit leaves neither its writes nor any leaf; an append that loses a deadlock is retried; a name
// another server adds meanwhile is found; two storages on one database appending at once never collide on
// sequence numbers.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { openPostgresStorage, type PostgresStorage } from '../../src/storage/postgres/index.ts';
import type { LogAppend, Storage } from '../../src/storage/types.ts';
import { decodeLeaf } from '../../src/transparency/leaf.ts';
import { leafHash } from '../../src/transparency/hash.ts';
import { MemoryTree, rootHash } from '../../src/transparency/tree.ts';
import { item } from '../contract/fixtures.ts';
import { postgresAvailability, POSTGRES_MISSING, startPostgres, type PostgresServer } from '../helpers/postgres.ts';
import { until } from '../helpers/until.ts';

const DOMAIN = 'capulet.lit';
const OWNER = `juliet@${DOMAIN}`;
const NODE = 'urn:xmpp:pubkey:2';

const keyEvent = (itemId: string, extra: Partial<LogAppend['event']> = {}, domain = DOMAIN): LogAppend => ({
  domain,
  event: { type: 'publish', time: 1_764_892_800_000, jid: OWNER, node: NODE, itemId, payloadHash: new Uint8Array(32).fill(7), fingerprint: 'sha-256:ab', ...extra },
});

const dbName = (url: string) => decodeURIComponent(new URL(url).pathname.slice(1));

/**
 * A log's leaves, checked against the stored tree: every stored node of every level (full blocks' hashes
 * and the subtrees above) and the root equal those of a tree built from the leaves, and the (JID, seq)
 * index lists exactly each JID's leaves. Read by a storage of its own, which keeps nothing from before.
 */
async function verifiedLeaves(url: string, domain = DOMAIN): Promise<{ seq: number; jid: string; itemId: string }[]> {
  const s = await openPostgresStorage({ connectionString: url });
  try {
    const kt = s.transparency;
    const n = await kt.size(domain);
    const entries = await kt.entries(domain, 0, n);
    assert.deepEqual(entries.map((e) => e.seq), [...Array(n).keys()], 'consecutive sequence numbers');
    const reference = new MemoryTree();
    for (const e of entries) reference.append(leafHash(e.leaf));
    assert.deepEqual(await rootHash(n, (refs) => kt.nodes(domain, refs)), await rootHash(n, reference.read), 'root');
    for (let level = 0; level < reference.levels.length; level++) {
      const want = reference.levels[level]!;
      assert.deepEqual(await kt.nodes(domain, want.map((_, index) => ({ level, index }))), want, `level ${level}`);
    }
    const leaves = entries.map((e) => {
      const d = decodeLeaf(e.leaf);
      assert.equal(d.seq, e.seq);
      return { seq: e.seq, jid: d.jid, itemId: d.itemId };
    });
    for (const jid of new Set(leaves.map((l) => l.jid))) {
      const of = await kt.entriesOf(domain, jid, 0, n + 1);
      assert.deepEqual(of.map((e) => e.seq), leaves.filter((l) => l.jid === jid).map((l) => l.seq), `entries of ${jid}`);
    }
    return leaves;
  } finally {
    await s.close();
  }
}

/**
 * Runs `fn` with a second connection of its own (`side`, for a transaction the test controls) and a way to
 * wait until some backend of the database waits for a lock in a statement naming `table`.
 */
async function withSide(url: string, fn: (side: pg.Client, lockWaitOn: (table: string, what: string) => Promise<void>) => Promise<void>): Promise<void> {
  const side = new pg.Client({ connectionString: url });
  // Outside any transaction: pg_stat_activity is read once per transaction and kept.
  const watch = new pg.Client({ connectionString: url });
  await side.connect();
  await watch.connect();
  try {
    await fn(side, (table, what) =>
      until(async () => {
        const { rows } = await watch.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE $1`,
          [`%${table}%`],
        );
        return rows[0].n > 0;
      }, what),
    );
  } finally {
    await side.end();
    await watch.end();
  }
}

function suites(server: PostgresServer): void {
  const withStorage = async (fn: (storage: PostgresStorage, url: string) => Promise<void>) => {
    const url = await server.createDatabase();
    const storage = await openPostgresStorage({ connectionString: url });
    try {
      await storage.pubsub.createNode({ service: OWNER, node: NODE, config: {}, createdAt: 1 });
      await fn(storage, url);
    } finally {
      await storage.close();
    }
  };
  const publish = (s: Storage, id: string, log: LogAppend = keyEvent(id), node = NODE) => s.pubsub.publishItem(item(OWNER, node, id), undefined, log);

  describe('postgres: key events appended per group-commit transaction', () => {
    it('one batch of 30 writes: consecutive leaves in write order; writes failing alone leave none; later batches go on', () =>
      withStorage(async (storage, url) => {
        const ok: string[] = [];
        const writes: Promise<unknown>[] = [];
        const transactions = storage.stats.transactions;
        for (let i = 0; i < 30; i++) {
          const id = `k${i}`;
          if (i % 7 === 3) {
            // Fails alone (no such node): rolled back with its event.
            writes.push(publish(storage, id, keyEvent(id), 'no-such-node').then(() => assert.fail('published to a missing node'), () => 'refused'));
          } else if (i % 7 === 5) {
            // Fails alone at the hand-over: an event with no leaf encoding.
            writes.push(publish(storage, id, keyEvent(id, { fingerprint: 'x'.repeat(70_000) })).then(() => assert.fail('logged an unencodable event'), () => 'refused'));
          } else {
            ok.push(id);
            // Two JIDs, so the index holds more than one.
            writes.push(publish(storage, id, keyEvent(id, i % 2 ? { jid: `nurse@${DOMAIN}` } : {})));
          }
        }
        await Promise.all(writes);
        assert.ok(storage.stats.transactions - transactions < 30, 'the writes shared transactions');
        assert.deepEqual((await verifiedLeaves(url)).map((l) => l.itemId), ok);
        assert.deepEqual((await storage.pubsub.getItems(OWNER, NODE)).map((i) => i.id).sort(), [...ok].sort());

        // The next batches go on from there, across blocks of 8, in acknowledgement order.
        const more: string[] = [];
        for (let b = 0; b < 4; b++) {
          const ids = Array.from({ length: 5 + b }, (_, i) => `m${b}-${i}`);
          more.push(...ids);
          await Promise.all(ids.map((id) => publish(storage, id)));
        }
        for (let i = 0; i < 3; i++) {
          more.push(`s${i}`);
          await publish(storage, `s${i}`);
        }
        assert.deepEqual((await verifiedLeaves(url)).map((l) => l.itemId), [...ok, ...more]);
      }));

    it('a batch of 12 events writes its blocks and (JID, seq) rows in one statement each', () =>
      withStorage(async (storage, url) => {
        // Statement triggers count the write statements on the log's tables.
        await server.query(
          `CREATE TABLE kt_writes (tbl TEXT NOT NULL);
           CREATE FUNCTION count_kt_write() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN INSERT INTO kt_writes VALUES (TG_TABLE_NAME); RETURN NULL; END $$;
           CREATE TRIGGER count_blocks AFTER INSERT ON kt_blocks FOR EACH STATEMENT EXECUTE FUNCTION count_kt_write();
           CREATE TRIGGER count_jids AFTER INSERT ON kt_jids FOR EACH STATEMENT EXECUTE FUNCTION count_kt_write();`,
          dbName(url),
        );
        const ids = Array.from({ length: 12 }, (_, i) => `k${i}`);
        const batches = storage.stats.batches;
        await Promise.all(ids.map((id) => publish(storage, id)));
        assert.equal(storage.stats.batches - batches, 1, 'one batch');
        const { rows } = await server.query('SELECT tbl, count(*)::int AS n FROM kt_writes GROUP BY tbl ORDER BY tbl', dbName(url));
        assert.deepEqual(rows.map((r) => [r.tbl, r.n]), [['kt_blocks', 1], ['kt_jids', 1]]);
        assert.deepEqual((await verifiedLeaves(url)).map((l) => l.itemId), ids);
      }));

    it('one batch, two logs and a write without an event: each log gets its events in write order', () =>
      withStorage(async (storage, url) => {
        const other = 'montague.lit';
        await Promise.all([
          publish(storage, 'a1'),
          publish(storage, 'b1', keyEvent('b1', { jid: `romeo@${other}` }, other)),
          storage.pubsub.publishItem(item(OWNER, NODE, 'plain'), undefined),
          publish(storage, 'a2'),
          publish(storage, 'b2', keyEvent('b2', { jid: `romeo@${other}` }, other)),
          storage.pubsub.retractItem(OWNER, NODE, 'a1', keyEvent('a1', { type: 'retract', payloadHash: undefined, fingerprint: undefined })),
        ]);
        assert.deepEqual((await verifiedLeaves(url)).map((l) => l.itemId), ['a1', 'a2', 'a1']);
        assert.deepEqual((await verifiedLeaves(url, other)).map((l) => l.itemId), ['b1', 'b2']);
      }));

    it('an append that fails at the end of a batch fails its own write only; the others commit', () =>
      withStorage(async (storage, url) => {
        await publish(storage, 'first');
        // A row in the JID index where leaf 2 (Juliet's) goes: the batch's append fails on it, before COMMIT.
        await server.query(
          `INSERT INTO kt_jids (log_id, jid_id, seq) SELECT l.id, n.id, 2 FROM kt_logs l, kt_names n WHERE l.domain = '${DOMAIN}' AND n.name = '${OWNER}'`,
          dbName(url),
        );
        const results = await Promise.allSettled([
          publish(storage, 'a', keyEvent('a', { jid: `romeo@${DOMAIN}` })),
          publish(storage, 'b'),
          storage.pubsub.createNode({ service: OWNER, node: 'plain', config: {}, createdAt: 2 }),
        ]);
        assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
        assert.deepEqual((await storage.pubsub.getItems(OWNER, NODE)).map((i) => i.id).sort(), ['a', 'first']);
        assert.ok(await storage.pubsub.getNode(OWNER, 'plain'));
        await server.query('DELETE FROM kt_jids WHERE seq = 2', dbName(url));
        await publish(storage, 'c');
        assert.deepEqual((await verifiedLeaves(url)).map((l) => l.itemId), ['first', 'a', 'c']);
      }));

    it('a batch whose COMMIT fails leaves neither its writes nor any leaf; numbering goes on after it', () =>
      withStorage(async (storage, url) => {
        await publish(storage, 'first');
        // Checked at COMMIT: the whole transaction fails there, after the append ran.
        await server.query(
          `CREATE FUNCTION no_boom() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN IF NEW.item_id = 'boom' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$;
           CREATE CONSTRAINT TRIGGER no_boom AFTER INSERT ON pubsub_items DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION no_boom();`,
          dbName(url),
        );
        const results = await Promise.allSettled(['a', 'boom', 'b'].map((id) => publish(storage, id, keyEvent(id, { jid: `romeo@${DOMAIN}` }))));
        assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected', 'rejected']);
        assert.deepEqual((await storage.pubsub.getItems(OWNER, NODE)).map((i) => i.id), ['first']);
        assert.deepEqual(await storage.transparency.entriesOf(DOMAIN, `romeo@${DOMAIN}`, 0, 10), []);
        await publish(storage, 'c');
        assert.deepEqual((await verifiedLeaves(url)).map((l) => l.itemId), ['first', 'c']);
      }));

    it('an append that loses a deadlock is retried with its writes', () =>
      withStorage(async (storage, url) => {
        await publish(storage, 'first');
        await withSide(url, async (side, lockWaitOn) => {
          // The side holds the log, then wants the node the batch has locked while waiting for the log.
          await side.query('BEGIN');
          await side.query('SELECT id FROM kt_logs WHERE domain = $1 FOR UPDATE', [DOMAIN]);
          const retries = storage.stats.retries;
          const writes = Promise.all(['a', 'b'].map((id) => publish(storage, id)));
          await lockWaitOn('kt_logs', 'the batch waits for the log');
          let sideLost = false;
          try {
            await side.query('SELECT id FROM pubsub_nodes WHERE service = $1 AND node = $2 FOR UPDATE', [OWNER, NODE]);
          } catch (err) {
            assert.equal((err as { code?: string }).code, '40P01');
            sideLost = true;
          }
          await side.query(sideLost ? 'ROLLBACK' : 'COMMIT');
          await writes;
          assert.ok(sideLost || storage.stats.retries > retries, 'one of the two lost the deadlock');
        });
        assert.deepEqual((await verifiedLeaves(url)).map((l) => l.itemId), ['first', 'a', 'b']);
      }));
  });

  describe('postgres: a new name another server adds at the same moment', () => {
    it('the append waits for it and then uses its number', () =>
      withStorage(async (storage, url) => {
        const late = `late@${DOMAIN}`;
        await withSide(url, async (side, lockWaitOn) => {
          await side.query('BEGIN');
          await side.query('INSERT INTO kt_names (name) VALUES ($1)', [late]);
          const write = publish(storage, 'l', keyEvent('l', { jid: late }));
          // The append's insert of the same name waits for the side's transaction.
          await lockWaitOn('kt_names', 'the append waits for the name');
          await side.query('COMMIT');
          await write;
        });
        const leaves = await verifiedLeaves(url);
        assert.deepEqual(leaves, [{ seq: 0, jid: late, itemId: 'l' }]);
        const { rows } = await server.query(`SELECT count(*)::int AS n FROM kt_names WHERE name = '${late}'`, dbName(url));
        assert.equal(rows[0].n, 1);
      }));
  });

  describe('postgres: two storages appending to shared logs at once', () => {
    it('no sequence number twice, every leaf and root and the (JID, seq) index right, each storage in its own order', async () => {
      const url = await server.createDatabase();
      const a = await openPostgresStorage({ connectionString: url });
      const b = await openPostgresStorage({ connectionString: url });
      const other = 'montague.lit';
      try {
        // Each storage publishes to a node of its own (so only the logs are shared), in bursts of 12 (and some
        // alone) with events for two logs; new JIDs in every burst, the same on both storages, so both add the
        // same names at once.
        const run = async (s: Storage, tag: string) => {
          const service = `${tag}@${DOMAIN}`;
          await s.pubsub.createNode({ service, node: NODE, config: {}, createdAt: 1 });
          const acked: string[] = [];
          for (let burst = 0; burst < 12; burst++) {
            const size = burst % 4 === 3 ? 1 : 12;
            const ids = Array.from({ length: size }, (_, i) => `${tag}${burst}-${i}`);
            await Promise.all(
              ids.map((id, i) => {
                const domain = i % 3 === 2 ? other : DOMAIN;
                return s.pubsub.publishItem(item(service, NODE, id), undefined, keyEvent(id, { jid: `u${burst}-${i % 4}@${domain}` }, domain));
              }),
            );
            acked.push(...ids);
          }
          return acked;
        };
        const [fromA, fromB] = await Promise.all([run(a, 'a'), run(b, 'b')]);
        const logged = [...(await verifiedLeaves(url)), ...(await verifiedLeaves(url, other))].map((l) => l.itemId);
        assert.equal(logged.length, fromA.length + fromB.length);
        assert.deepEqual([...logged].sort(), [...fromA, ...fromB].sort(), 'every acknowledged event exactly once');
        // Within each log, each storage's events come in the order it issued them.
        for (const domain of [DOMAIN, other]) {
          const ids = (await verifiedLeaves(url, domain)).map((l) => l.itemId);
          for (const [tag, issued] of [['a', fromA], ['b', fromB]] as const) {
            const mine = ids.filter((id) => id.startsWith(tag));
            assert.deepEqual(mine, issued.filter((id) => mine.includes(id)), `${tag}'s order in ${domain}`);
          }
        }
      } finally {
        await a.close();
        await b.close();
      }
    });
  });
}

if (postgresAvailability() === 'skip') {
  it('PostgreSQL tests', { skip: 'PEPKEYS_SKIP_POSTGRES=1 and PostgreSQL is not installed' }, () => {});
} else if (postgresAvailability() === 'missing') {
  it('PostgreSQL is installed', () => assert.fail(POSTGRES_MISSING));
} else {
  const server = (await startPostgres())!;
  after(() => server.stop());
  suites(server);
}
