// Shared fixture: an engine over the in-memory store, with the owner's roster given as data.
// Cast from XEP-0222 §1.2 (Juliet's contacts) plus a few more relationships.
import { createMemoryStorage } from '../../../src/storage/memory/index.ts';
import { PubsubEngine, type PubsubEngineDeps } from '../../../src/server/pubsub/engine.ts';
import { NO_RELATIONSHIP, type Relationship } from '../../../src/server/pubsub/access.ts';
import type { PubsubError } from '../../../src/server/pubsub/errors.ts';
import { parseJid } from '../../../src/jid/index.ts';
import { StanzaError } from '../../../src/protocol/rfc6120.ts';
import assert from 'node:assert/strict';

export const JULIET = 'juliet@capulet.lit';
export const BALCONY = 'juliet@capulet.lit/balcony';
/** Both-way subscription, "Friends" group (XEP-0222 §1.2). */
export const ROMEO = 'romeo@montague.lit';
/** Both-way subscription, "Servants" group (XEP-0222 §1.2). */
export const NURSE = 'nurse@capulet.lit';
/** No subscription at all (XEP-0222 §1.2). */
export const BENVOLIO = 'benvolio@montague.lit';
/** Subscribed to Juliet's presence ('from'), no group. */
export const TYBALT = 'tybalt@capulet.lit';
/** Juliet subscribed to his presence only ('to'), in "Friends". */
export const MERCUTIO = 'mercutio@verona.lit';
/** Will be made an outcast. */
export const PARIS = 'paris@verona.lit';
/** Will be made a whitelist member. */
export const FRIAR = 'laurence@verona.lit';

export interface Fixture {
  engine: PubsubEngine;
  store: ReturnType<typeof createMemoryStorage>['pubsub'];
  roster: Map<string, Relationship>;
  relationshipCalls: () => number;
}

export function setup(overrides: Partial<PubsubEngineDeps> = {}): Fixture {
  const storage = createMemoryStorage();
  const roster = new Map<string, Relationship>([
    [ROMEO, { subscription: 'both', groups: ['Friends'] }],
    [NURSE, { subscription: 'both', groups: ['Servants'] }],
    [TYBALT, { subscription: 'from', groups: [] }],
    [MERCUTIO, { subscription: 'to', groups: ['Friends'] }],
  ]);
  let calls = 0;
  let now = 1_000;
  let id = 0;
  const engine = new PubsubEngine({
    store: storage.pubsub,
    async relationship(owner, requester) {
      calls++;
      assert.equal(owner, JULIET);
      return roster.get(requester) ?? NO_RELATIONSHIP;
    },
    limits: { maxNodesPerService: 10, maxItemsPerNode: 5, maxPayloadBytes: 1000 },
    clock: () => now++,
    idGenerator: () => `gen${++id}`,
    ...overrides,
  });
  return { engine, store: storage.pubsub, roster, relationshipCalls: () => calls };
}

/** Engine actors are parsed JIDs. */
export const jid = parseJid;

/** Explicit subscribers of Juliet's node in state "subscribed", as the owner sees them (§8.8.1). */
export async function subscribers(engine: PubsubEngine, node: string): Promise<string[]> {
  return (await engine.service(JULIET).nodeSubscriptions(node, jid(JULIET))).filter((s) => s.subscription === 'subscribed').map((s) => s.jid);
}

export const payload = (n: number | string) => `<entry xmlns="urn:example">${n}</entry>`;

/**
 * Asserts a promise rejects with the given stanza condition (and pubsub condition, when given): a
 * PubsubError, or a plain StanzaError where the condition is not pubsub's (XEP-0059 paging).
 */
export async function rejects(
  p: Promise<unknown>, condition: string, pubsubCondition?: string, extra: Partial<Pick<PubsubError, 'type' | 'feature'>> = {},
): Promise<PubsubError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught, 'expected a rejection');
  const err = caught as PubsubError;
  assert.ok(err instanceof StanzaError, String(caught));
  if (pubsubCondition !== undefined) assert.equal(err.name, 'PubsubError', String(caught));
  assert.equal(err.condition, condition, err.message);
  assert.equal(err.pubsubCondition, pubsubCondition, err.message);
  if (extra.type) assert.equal(err.type, extra.type);
  if (extra.feature) assert.equal(err.feature, extra.feature);
  return err;
}
