// Every access model × relationship (XEP-0060 §4.5, §6.1.3, §6.5.9), through the pure decision and through
// the engine's retrieval, subscription, disco listing and notification paths, which must all agree.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { canAccess, canPublish, NO_RELATIONSHIP, type AccessFacts } from '../../../src/server/pubsub/access.ts';
import { BALCONY, BENVOLIO, FRIAR, JULIET, MERCUTIO, NURSE, PARIS, payload, ROMEO, setup, TYBALT } from './helpers.ts';

type Expect = 'ok' | 'forbidden' | 'presence-subscription-required' | 'not-in-roster-group' | 'closed-node';

const WHO = {
  owner: { isOwner: true, affiliation: 'owner' },
  friendsBoth: { isOwner: false, affiliation: 'none', relationship: { subscription: 'both', groups: ['Friends'] } },
  otherGroupBoth: { isOwner: false, affiliation: 'none', relationship: { subscription: 'both', groups: ['Servants'] } },
  presenceFromOnly: { isOwner: false, affiliation: 'none', relationship: { subscription: 'from', groups: [] } },
  toOnlyInFriends: { isOwner: false, affiliation: 'none', relationship: { subscription: 'to', groups: ['Friends'] } },
  none: { isOwner: false, affiliation: 'none', relationship: NO_RELATIONSHIP },
  outcastFriend: { isOwner: false, affiliation: 'outcast', relationship: { subscription: 'both', groups: ['Friends'] } },
  whitelistMember: { isOwner: false, affiliation: 'member', relationship: NO_RELATIONSHIP },
} satisfies Record<string, AccessFacts>;

const MATRIX: Record<string, Record<keyof typeof WHO, Expect>> = {
  open: {
    owner: 'ok', friendsBoth: 'ok', otherGroupBoth: 'ok', presenceFromOnly: 'ok', toOnlyInFriends: 'ok', none: 'ok',
    outcastFriend: 'forbidden', whitelistMember: 'ok',
  },
  presence: {
    owner: 'ok', friendsBoth: 'ok', otherGroupBoth: 'ok', presenceFromOnly: 'ok',
    toOnlyInFriends: 'presence-subscription-required', none: 'presence-subscription-required',
    outcastFriend: 'forbidden', whitelistMember: 'ok',
  },
  roster: {
    owner: 'ok', friendsBoth: 'ok', otherGroupBoth: 'not-in-roster-group', presenceFromOnly: 'not-in-roster-group',
    toOnlyInFriends: 'presence-subscription-required', none: 'not-in-roster-group',
    outcastFriend: 'forbidden', whitelistMember: 'ok',
  },
  whitelist: {
    owner: 'ok', friendsBoth: 'closed-node', otherGroupBoth: 'closed-node', presenceFromOnly: 'closed-node',
    toOnlyInFriends: 'closed-node', none: 'closed-node', outcastFriend: 'forbidden', whitelistMember: 'ok',
  },
};

const CONDITION: Record<Exclude<Expect, 'ok'>, [string, string | undefined]> = {
  forbidden: ['forbidden', undefined],
  'presence-subscription-required': ['not-authorized', 'presence-subscription-required'],
  'not-in-roster-group': ['not-authorized', 'not-in-roster-group'],
  'closed-node': ['not-allowed', 'closed-node'],
};

describe('canAccess (pure)', () => {
  for (const [model, row] of Object.entries(MATRIX)) {
    for (const [who, expected] of Object.entries(row)) {
      it(`${model} × ${who} → ${expected}`, () => {
        const d = canAccess({ accessModel: model as 'open', rosterGroupsAllowed: ['Friends'] }, WHO[who as keyof typeof WHO]);
        if (expected === 'ok') return assert.deepEqual(d, { ok: true });
        assert.equal(d.ok, false);
        if (d.ok) return;
        const [cond, pcond] = CONDITION[expected];
        assert.equal(d.error.condition, cond);
        assert.equal(d.error.pubsubCondition, pcond);
      });
    }
  }

  it('an unknown stored model (authorize) is closed to everyone but owner and affiliates', () => {
    const d = canAccess({ accessModel: 'authorize' as 'open', rosterGroupsAllowed: [] }, WHO.friendsBoth);
    assert.equal(d.ok, false);
    assert.ok(canAccess({ accessModel: 'authorize' as 'open', rosterGroupsAllowed: [] }, WHO.owner).ok);
  });

  it('publish-only may not retrieve (XEP-0060 §4.1 table) but may publish', () => {
    const facts: AccessFacts = { isOwner: false, affiliation: 'publish-only' };
    assert.equal(canAccess({ accessModel: 'open', rosterGroupsAllowed: [] }, facts).ok, false);
    assert.equal(canPublish(facts), true);
    assert.equal(canPublish({ isOwner: false, affiliation: 'member' }), false);
    assert.equal(canPublish({ isOwner: false, affiliation: 'publisher' }), true);
  });
});

// The same matrix through the engine, with real JIDs: Romeo (Friends, both), Nurse (Servants, both),
// Tybalt ('from'), Mercutio ('to', Friends), Benvolio (none), Paris (outcast), Friar (member).
const ACTORS: Record<keyof typeof WHO, string> = {
  owner: BALCONY,
  friendsBoth: `${ROMEO}/orchard`,
  otherGroupBoth: NURSE,
  presenceFromOnly: TYBALT,
  toOnlyInFriends: MERCUTIO,
  none: BENVOLIO,
  outcastFriend: PARIS,
  whitelistMember: FRIAR,
};

describe('engine paths agree with canAccess', () => {
  for (const [model, row] of Object.entries(MATRIX)) {
    it(`${model}: getItems, subscribe, listNodes, mayReceive`, async () => {
      const f = setup();
      // Paris is a Friend with a both subscription: only the outcast affiliation keeps him out.
      f.roster.set(PARIS, { subscription: 'both', groups: ['Friends'] });
      await f.engine.publish(JULIET, 'n', BALCONY, { id: 'i1', payload: payload(1) }, {
        access_model: model, roster_groups_allowed: ['Friends'],
      });
      await f.engine.setAffiliations(JULIET, 'n', BALCONY, [
        { jid: PARIS, affiliation: 'outcast' }, { jid: FRIAR, affiliation: 'member' },
      ]);
      for (const [who, expected] of Object.entries(row)) {
        const jid = ACTORS[who as keyof typeof WHO];
        const label = `${model} × ${who}`;
        const listed = (await f.engine.listNodes(JULIET, jid)).map((n) => n.node);
        assert.deepEqual(listed, expected === 'ok' ? ['n'] : [], label);
        assert.equal(await f.engine.mayReceive(JULIET, 'n', jid), expected === 'ok', label);
        if (expected === 'ok') {
          const r = await f.engine.getItems(JULIET, 'n', jid);
          assert.deepEqual(r.items.map((i) => i.id), ['i1'], label);
          const bare = jid.split('/')[0];
          const s = await f.engine.subscribe(JULIET, 'n', jid, bare);
          assert.equal(s.subscription, 'subscribed', label);
        } else {
          const [cond, pcond] = CONDITION[expected];
          for (const p of [f.engine.getItems(JULIET, 'n', jid), f.engine.subscribe(JULIET, 'n', jid, jid.split('/')[0])]) {
            await assert.rejects(p, (e: { condition: string; pubsubCondition?: string }) => {
              assert.equal(e.condition, cond, label);
              assert.equal(e.pubsubCondition, pcond, label);
              return true;
            });
          }
        }
      }
    });
  }
});
