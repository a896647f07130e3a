// Pubsub nodes, items, affiliations and subscriptions (XEP-0060 / XEP-0163). Items are ordered by a
// per-node sequence number drawn from pubsub_nodes.last_seq, so "newest" never depends on any server's
// clock.
//
// Every write that changes a node's items first locks the node row (UPDATE ... RETURNING or SELECT ...
// FOR UPDATE) in a statement of its own, then works on the items in a later statement (for publishes both
// run inside one PL/pgSQL call). Under READ
// COMMITTED each statement takes a fresh snapshot, so the item statements see everything another server
// committed while we waited for the lock: order and max_items trimming stay exact with any number of
// servers publishing to one node.
import type { Affiliation, LogAppend, PubsubStore, SubscriptionState } from '../types.ts';
import { NodeNotFoundError } from '../errors.ts';
import { pickItems } from '../item-query.ts';
import { itemColumns, nodeColumns, toItem, toJidMap, toNode, type ItemRow, type NodeRow } from '../sql/rows.ts';
import { statement, type Db } from './db.ts';
import type { GroupCommit } from './group-commit.ts';

const nodeId = '(SELECT id FROM pubsub_nodes WHERE service = $1 AND node = $2)';

const selectNode = statement('pubsub_node', `SELECT ${nodeColumns} FROM pubsub_nodes WHERE service = $1 AND node = $2`);
const selectNodes = statement('pubsub_nodes', `SELECT ${nodeColumns} FROM pubsub_nodes WHERE service = $1`);
const insertNode = statement(
  'pubsub_node_insert',
  `INSERT INTO pubsub_nodes (service, node, config, created_at) VALUES ($1, $2, $3, $4)
   ON CONFLICT (service, node) DO NOTHING`,
);
const updateConfig = statement('pubsub_node_config', 'UPDATE pubsub_nodes SET config = $3 WHERE service = $1 AND node = $2');
// Items, affiliations and subscriptions go with it through ON DELETE CASCADE.
const deleteNode = statement('pubsub_node_delete', 'DELETE FROM pubsub_nodes WHERE service = $1 AND node = $2');
const deleteService = statement('pubsub_service_delete', 'DELETE FROM pubsub_nodes WHERE service = $1');
const lockNode = statement('pubsub_node_lock', 'SELECT id FROM pubsub_nodes WHERE service = $1 AND node = $2 FOR UPDATE');

// One round trip: see pepkeys_publish_item in ./migrations.ts (lock the node, draw a sequence number,
// upsert, trim). NULL means no such node.
const publish = statement('pubsub_publish', 'SELECT pepkeys_publish_item($1, $2, $3, $4, $5, $6, $7) AS evicted');
const deleteItem = statement('pubsub_item_delete', 'DELETE FROM pubsub_items WHERE node_id = $1 AND item_id = $2');
const deleteItems = statement('pubsub_items_delete', 'DELETE FROM pubsub_items WHERE node_id = $1');

// LIMIT NULL: no limit.
const selectNewest = statement(
  'pubsub_items_newest',
  `SELECT ${itemColumns} FROM pubsub_items WHERE node_id = ${nodeId} ORDER BY seq DESC LIMIT $3`,
);
const selectByIds = statement(
  'pubsub_items_by_id',
  `SELECT ${itemColumns} FROM pubsub_items WHERE node_id = ${nodeId} AND item_id = ANY ($3::text[])`,
);
const countItems = statement('pubsub_items_count', `SELECT count(*)::int AS n FROM pubsub_items WHERE node_id = ${nodeId}`);

const FOREIGN_KEY_VIOLATION = '23503';

/** `appendLog` hands a key event to the write's transaction (appended before its COMMIT), after the write succeeded. */
export function createPubsubStore(gc: GroupCommit, appendLog: (log: LogAppend) => void): PubsubStore {
  const logged = <T>(log: LogAppend | undefined, changed: boolean, result: T): T => {
    if (log && changed) appendLog(log);
    return result;
  };

  /** Runs an affiliation/subscription write whose statement returns no row when the node is missing. */
  const onNode = async (db: Db, service: string, node: string, run: () => ReturnType<Db['run']>) => {
    let rows: unknown[];
    try {
      rows = (await run()).rows;
    } catch (err) {
      // The node was deleted by another server between our lookup and the insert's key check.
      if ((err as { code?: string }).code === FOREIGN_KEY_VIOLATION) throw new NodeNotFoundError(service, node);
      throw err;
    }
    if (rows.length === 0) throw new NodeNotFoundError(service, node);
  };

  /**
   * pubsub_affiliations and pubsub_subscriptions: one value per node and JID, where 'none' is no row. The
   * insert-or-update returns a row exactly when the node exists; the delete form returns the node id.
   */
  function jidTable<V extends string>(kind: string, table: string, column: string) {
    const select = statement(`pubsub_${kind}s`, `SELECT jid, ${column} FROM ${table} WHERE node_id = ${nodeId}`);
    const upsert = statement(
      `pubsub_${kind}_upsert`,
      `INSERT INTO ${table} (node_id, jid, ${column}) SELECT id, $3, $4 FROM pubsub_nodes WHERE service = $1 AND node = $2
       ON CONFLICT (node_id, jid) DO UPDATE SET ${column} = excluded.${column} RETURNING node_id`,
    );
    const remove = statement(
      `pubsub_${kind}_delete`,
      `WITH n AS ${nodeId}, d AS (DELETE FROM ${table} WHERE node_id = (SELECT id FROM n) AND jid = $3)
       SELECT id FROM n`,
    );
    return {
      get: (service: string, node: string) =>
        gc.read(async (db) => toJidMap((await db.run<{ jid: string } & Record<string, V>>(select, [service, node])).rows, column)),
      set: (service: string, node: string, jid: string, value: V) =>
        gc.write((db) =>
          onNode(db, service, node, () =>
            value === 'none' ? db.run(remove, [service, node, jid]) : db.run(upsert, [service, node, jid, value]),
          ),
        ),
    };
  }
  const affiliations = jidTable<Affiliation>('affiliation', 'pubsub_affiliations', 'affiliation');
  const subscriptions = jidTable<SubscriptionState>('subscription', 'pubsub_subscriptions', 'state');

  return {
    getNode(service, node) {
      return gc.read(async (db) => {
        const row = (await db.run<NodeRow>(selectNode, [service, node])).rows[0];
        return row && toNode(service, row);
      });
    },
    listNodes(service) {
      return gc.read(async (db) =>
        (await db.run<NodeRow>(selectNodes, [service])).rows
          .map((row) => toNode(service, row))
          .sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0)),
      );
    },
    createNode(record) {
      const values = [record.service, record.node, JSON.stringify(record.config), record.createdAt];
      return gc.write(async (db) => ((await db.run(insertNode, values)).rowCount ?? 0) > 0);
    },
    updateConfig(service, node, config) {
      const json = JSON.stringify(config);
      return gc.write(async (db) => ((await db.run(updateConfig, [service, node, json])).rowCount ?? 0) > 0);
    },
    deleteNode(service, node, log) {
      return gc.write(async (db) => {
        const deleted = ((await db.run(deleteNode, [service, node])).rowCount ?? 0) > 0;
        return logged(log, deleted, deleted);
      });
    },
    publishItem(item, maxItems, log) {
      const { service, node, id, publisher, payload, publishedAt } = item;
      const values = [service, node, id, publisher, payload, publishedAt, maxItems ?? null];
      return gc.write(async (db) => {
        const evicted = (await db.run<{ evicted: string[] | null }>(publish, values)).rows[0].evicted;
        if (evicted === null) throw new NodeNotFoundError(service, node);
        return logged(log, true, { evicted });
      });
    },
    getItems(service, node, { ids, max } = {}) {
      return gc.read(async (db) => {
        if (ids) {
          const wanted = [...new Set(ids)];
          if (wanted.length === 0) return [];
          const rows = (await db.run<ItemRow>(selectByIds, [service, node, wanted])).rows;
          const byId = new Map(rows.map((row) => [row.item_id, row]));
          return pickItems(wanted, max, (itemId) => byId.get(itemId)).map((row) => toItem(service, node, row));
        }
        const limit = max === undefined ? null : Math.max(0, max);
        return (await db.run<ItemRow>(selectNewest, [service, node, limit])).rows.map((row) => toItem(service, node, row));
      });
    },
    countItems(service, node) {
      return gc.read(async (db) => (await db.run(countItems, [service, node])).rows[0].n as number);
    },
    retractItem(service, node, id, log) {
      return gc.write(async (db) => {
        const locked = (await db.run<{ id: string }>(lockNode, [service, node])).rows[0];
        if (!locked) return false;
        const retracted = ((await db.run(deleteItem, [locked.id, id])).rowCount ?? 0) > 0;
        return logged(log, retracted, retracted);
      });
    },
    purgeNode(service, node, log) {
      return gc.write(async (db) => {
        const locked = (await db.run<{ id: string }>(lockNode, [service, node])).rows[0];
        if (!locked) return 0;
        return logged(log, true, (await db.run(deleteItems, [locked.id])).rowCount ?? 0);
      });
    },
    getAffiliations: affiliations.get,
    setAffiliation: affiliations.set,
    getSubscriptions: subscriptions.get,
    setSubscription: subscriptions.set,
    deleteService(service) {
      return gc.write(async (db) => {
        await db.run(deleteService, [service]);
      });
    },
  };
}
