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
import type {
  Affiliation,
  ItemQuery,
  NodeConfig,
  PubsubItemRecord,
  PubsubNodeRecord,
  PubsubStore,
  SubscriptionState,
} from '../types.ts';
import { NodeNotFoundError } from '../errors.ts';
import { num, statement, type Db } from './db.ts';
import type { GroupCommit } from './group-commit.ts';

interface NodeRow {
  node: string;
  config: string;
  created_at: string;
}

interface ItemRow {
  item_id: string;
  publisher: string;
  payload: string;
  published_at: string;
}

const nodeId = '(SELECT id FROM pubsub_nodes WHERE service = $1 AND node = $2)';
const itemColumns = 'item_id, publisher, payload, published_at';

const selectNode = statement('pubsub_node', 'SELECT node, config, created_at FROM pubsub_nodes WHERE service = $1 AND node = $2');
const selectNodes = statement('pubsub_nodes', 'SELECT node, config, created_at FROM pubsub_nodes WHERE service = $1');
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

// Paging (see ../item-query.ts) in one statement, so anchors and page come from one snapshot. An anchor
// that is given ($3/$4 not null) but unknown compares against NULL and yields no rows.
const rangeSql = (order: 'ASC' | 'DESC') => `
  WITH n AS ${nodeId}
  SELECT ${itemColumns} FROM pubsub_items
  WHERE node_id = (SELECT id FROM n)
    AND ($3::text IS NULL OR seq < (SELECT seq FROM pubsub_items WHERE node_id = (SELECT id FROM n) AND item_id = $3))
    AND ($4::text IS NULL OR seq > (SELECT seq FROM pubsub_items WHERE node_id = (SELECT id FROM n) AND item_id = $4))
  ORDER BY seq ${order} LIMIT $5`;
const selectRangeDesc = statement('pubsub_items_desc', rangeSql('DESC'));
const selectRangeAsc = statement('pubsub_items_asc', rangeSql('ASC'));
const selectByIds = statement(
  'pubsub_items_by_id',
  `SELECT ${itemColumns} FROM pubsub_items WHERE node_id = ${nodeId} AND item_id = ANY ($3::text[])`,
);
const countItems = statement('pubsub_items_count', `SELECT count(*)::int AS n FROM pubsub_items WHERE node_id = ${nodeId}`);

const selectAffiliations = statement(
  'pubsub_affiliations',
  `SELECT jid, affiliation FROM pubsub_affiliations WHERE node_id = ${nodeId}`,
);
// Insert-or-update returns a row exactly when the node exists; the delete form returns the node id.
const upsertAffiliation = statement(
  'pubsub_affiliation_upsert',
  `INSERT INTO pubsub_affiliations (node_id, jid, affiliation) SELECT id, $3, $4 FROM pubsub_nodes WHERE service = $1 AND node = $2
   ON CONFLICT (node_id, jid) DO UPDATE SET affiliation = excluded.affiliation RETURNING node_id`,
);
const deleteAffiliation = statement(
  'pubsub_affiliation_delete',
  `WITH n AS ${nodeId}, d AS (DELETE FROM pubsub_affiliations WHERE node_id = (SELECT id FROM n) AND jid = $3)
   SELECT id FROM n`,
);
const selectSubscriptions = statement(
  'pubsub_subscriptions',
  `SELECT jid, state FROM pubsub_subscriptions WHERE node_id = ${nodeId}`,
);
const upsertSubscription = statement(
  'pubsub_subscription_upsert',
  `INSERT INTO pubsub_subscriptions (node_id, jid, state) SELECT id, $3, $4 FROM pubsub_nodes WHERE service = $1 AND node = $2
   ON CONFLICT (node_id, jid) DO UPDATE SET state = excluded.state RETURNING node_id`,
);
const deleteSubscription = statement(
  'pubsub_subscription_delete',
  `WITH n AS ${nodeId}, d AS (DELETE FROM pubsub_subscriptions WHERE node_id = (SELECT id FROM n) AND jid = $3)
   SELECT id FROM n`,
);

const FOREIGN_KEY_VIOLATION = '23503';

export function createPubsubStore(gc: GroupCommit): PubsubStore {
  const toNode = (service: string, row: NodeRow): PubsubNodeRecord => ({
    service,
    node: row.node,
    config: JSON.parse(row.config) as NodeConfig,
    createdAt: num(row.created_at),
  });
  const toItem = (service: string, node: string, row: ItemRow): PubsubItemRecord => ({
    service,
    node,
    id: row.item_id,
    publisher: row.publisher,
    payload: row.payload,
    publishedAt: num(row.published_at),
  });

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
    deleteNode(service, node) {
      return gc.write(async (db) => ((await db.run(deleteNode, [service, node])).rowCount ?? 0) > 0);
    },
    publishItem(item, maxItems) {
      const { service, node, id, publisher, payload, publishedAt } = item;
      const values = [service, node, id, publisher, payload, publishedAt, maxItems ?? null];
      return gc.write(async (db) => {
        const evicted = (await db.run<{ evicted: string[] | null }>(publish, values)).rows[0].evicted;
        if (evicted === null) throw new NodeNotFoundError(service, node);
        return { evicted };
      });
    },
    getItems(service, node, query: ItemQuery = {}) {
      const { ids, max, after, before } = query;
      return gc.read(async (db) => {
        if (max !== undefined && max <= 0) return [];
        if (ids) {
          const wanted = [...new Set(ids)];
          if (wanted.length === 0) return [];
          const rows = (await db.run<ItemRow>(selectByIds, [service, node, wanted])).rows;
          const byId = new Map(rows.map((row) => [row.item_id, row]));
          const picked = wanted.flatMap((itemId) => (byId.has(itemId) ? [byId.get(itemId)!] : []));
          return (max === undefined ? picked : picked.slice(0, max)).map((row) => toItem(service, node, row));
        }
        const values = [service, node, after ?? null, before === undefined || before === '' ? null : before, max ?? null];
        // A `before` page is the one adjacent to its anchor: take the oldest end of the range.
        if (before !== undefined && max !== undefined) {
          const rows = (await db.run<ItemRow>(selectRangeAsc, values)).rows.reverse();
          return rows.map((row) => toItem(service, node, row));
        }
        return (await db.run<ItemRow>(selectRangeDesc, values)).rows.map((row) => toItem(service, node, row));
      });
    },
    countItems(service, node) {
      return gc.read(async (db) => (await db.run(countItems, [service, node])).rows[0].n as number);
    },
    retractItem(service, node, id) {
      return gc.write(async (db) => {
        const locked = (await db.run<{ id: string }>(lockNode, [service, node])).rows[0];
        if (!locked) return false;
        return ((await db.run(deleteItem, [locked.id, id])).rowCount ?? 0) > 0;
      });
    },
    purgeNode(service, node) {
      return gc.write(async (db) => {
        const locked = (await db.run<{ id: string }>(lockNode, [service, node])).rows[0];
        if (!locked) return 0;
        return (await db.run(deleteItems, [locked.id])).rowCount ?? 0;
      });
    },
    getAffiliations(service, node) {
      return gc.read(async (db) => {
        const rows = (await db.run<{ jid: string; affiliation: Affiliation }>(selectAffiliations, [service, node])).rows;
        return new Map(rows.map((row) => [row.jid, row.affiliation]));
      });
    },
    setAffiliation(service, node, jid, affiliation) {
      return gc.write((db) =>
        onNode(db, service, node, () =>
          affiliation === 'none'
            ? db.run(deleteAffiliation, [service, node, jid])
            : db.run(upsertAffiliation, [service, node, jid, affiliation]),
        ),
      );
    },
    getSubscriptions(service, node) {
      return gc.read(async (db) => {
        const rows = (await db.run<{ jid: string; state: SubscriptionState }>(selectSubscriptions, [service, node])).rows;
        return new Map(rows.map((row) => [row.jid, row.state]));
      });
    },
    setSubscription(service, node, jid, state) {
      return gc.write((db) =>
        onNode(db, service, node, () =>
          state === 'none' ? db.run(deleteSubscription, [service, node, jid]) : db.run(upsertSubscription, [service, node, jid, state]),
        ),
      );
    },
    deleteService(service) {
      return gc.write(async (db) => {
        await db.run(deleteService, [service]);
      });
    },
  };
}
