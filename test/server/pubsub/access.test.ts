// Every access model × relationship (XEP-0060 §4.5, §6.1.3, §6.5.9), through the pure decision and through
// the engine's retrieval, subscription, disco listing and notification paths, which must all agree; and the
// §4.1 affiliation table for the other actions.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CAPABILITIES, denied, hidden, NO_RELATIONSHIP, type Action, type AffiliationAction, type Standing } from '../../../src/server/pubsub/access.ts';
import type { Affiliation } from '../../../src/storage/types.ts';
import { BALCONY, BENVOLIO, FRIAR, jid, JULIET, MERCUTIO, NURSE, PARIS, payload, ROMEO, setup, TYBALT } from './helpers.ts';

type Expect = 'ok' | 'forbidden' | 'presence-subscription-required' | 'not-in-roster-group' | 'closed-node';

const WHO = {
  owner: { affiliation: 'owner' },
  friendsBoth: { affiliation: 'none', relationship: { subscription: 'both', groups: ['Friends'] } },
  otherGroupBoth: { affiliation: 'none', relationship: { subscription: 'both', groups: ['Servants'] } },
  presenceFromOnly: { affiliation: 'none', relationship: { subscription: 'from', groups: [] } },
  toOnlyInFriends: { affiliation: 'none', relationship: { subscription: 'to', groups: ['Friends'] } },
  none: { affiliation: 'none', relationship: NO_RELATIONSHIP },
  outcastFriend: { affiliation: 'outcast', relationship: { subscription: 'both', groups: ['Friends'] } },
  whitelistMember: { affiliation: 'member', relationship: NO_RELATIONSHIP },
} satisfies Record<string, Standing>;

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

describe('denied (pure): retrieve and subscribe', () => {
  for (const [model, row] of Object.entries(MATRIX)) {
    for (const [who, expected] of Object.entries(row)) {
      it(`${model} × ${who} → ${expected}`, () => {
        for (const action of ['retrieve', 'subscribe'] as const) {
          const e = denied(action, WHO[who as keyof typeof WHO], { accessModel: model as 'open', rosterGroupsAllowed: ['Friends'] });
          if (expected === 'ok') {
            assert.equal(e, undefined, action);
            continue;
          }
          const [cond, pcond] = CONDITION[expected];
          assert.equal(e?.condition, cond, action);
          assert.equal(e?.pubsubCondition, pcond, action);
        }
      });
    }
  }

  it('an unknown stored model (authorize) is closed to everyone but owner and affiliates', () => {
    const config = { accessModel: 'authorize' as 'open', rosterGroupsAllowed: [] };
    assert.equal(denied('retrieve', WHO.friendsBoth, config)?.pubsubCondition, 'closed-node');
    assert.equal(denied('retrieve', WHO.owner, config), undefined);
    assert.equal(denied('retrieve', WHO.whitelistMember, config), undefined);
  });

  it('publish-only may not retrieve (XEP-0060 §4.1 table) but may publish', () => {
    const publishOnly: Standing = { affiliation: 'publish-only' };
    assert.equal(denied('retrieve', publishOnly, { accessModel: 'open', rosterGroupsAllowed: [] })?.text, 'publish-only affiliation');
    assert.equal(denied('publish', publishOnly), undefined);
    assert.equal(denied('publish', { affiliation: 'member' })?.text, 'not a publisher');
    assert.equal(denied('publish', { affiliation: 'publisher' }), undefined);
  });
});

describe('the §4.1 capability table', () => {
  // Yes/no per affiliation, as today's XEP-0060 §4.1 table (purge: publishers too) and XEP-0163 §3.2 (create).
  const TABLE: Record<AffiliationAction, Affiliation[]> = {
    create: ['owner'],
    publish: ['owner', 'publisher', 'publish-only'],
    retract: ['owner', 'publisher', 'publish-only'],
    'retract-any': ['owner', 'publisher'],
    purge: ['owner', 'publisher'],
    configure: ['owner'],
    delete: ['owner'],
    'manage-affiliations': ['owner'],
    'manage-subscriptions': ['owner'],
    'unsubscribe-other': ['owner'],
  };
  const TEXT: Partial<Record<Action, string>> = {
    create: 'only the owner may create nodes', publish: 'not a publisher', retract: 'not a publisher',
    'retract-any': 'not the publisher of this item', 'unsubscribe-other': 'cannot unsubscribe another entity',
  };
  for (const [action, allowed] of Object.entries(TABLE) as [AffiliationAction, Affiliation[]][]) {
    it(`${action}: ${allowed.join(', ')}`, () => {
      for (const affiliation of Object.keys(CAPABILITIES) as Affiliation[]) {
        const e = denied(action, { affiliation }, { accessModel: 'open', rosterGroupsAllowed: [] });
        if (allowed.includes(affiliation)) {
          assert.equal(e, undefined, affiliation);
          continue;
        }
        // §4.1: "Insufficient Privileges" is <forbidden/> whatever the access model.
        assert.equal(e?.condition, 'forbidden', affiliation);
        assert.equal(e?.type, 'auth', affiliation);
        assert.equal(e?.text, TEXT[action] ?? 'not an owner', affiliation);
      }
    });
  }
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

describe('engine paths agree with denied()', () => {
  for (const [model, row] of Object.entries(MATRIX)) {
    it(`${model}: items, subscribe, nodes, mayReceive, may`, async () => {
      const f = setup();
      // Paris is a Friend with a both subscription: only the outcast affiliation keeps him out.
      f.roster.set(PARIS, { subscription: 'both', groups: ['Friends'] });
      await f.engine.service(JULIET).publish('n', jid(BALCONY), { id: 'i1', payload: payload(1) }, { options: {
        access_model: model, roster_groups_allowed: ['Friends'],
      } });
      await f.engine.service(JULIET).setNodeAffiliations('n', jid(BALCONY), [
        { jid: PARIS, affiliation: 'outcast' }, { jid: FRIAR, affiliation: 'member' },
      ]);
      for (const [who, expected] of Object.entries(row)) {
        const actor = jid(ACTORS[who as keyof typeof WHO]);
        const label = `${model} × ${who}`;
        const listed = (await f.engine.service(JULIET).nodes(actor)).map((n) => n.node);
        assert.deepEqual(listed, expected === 'ok' ? ['n'] : [], label);
        assert.equal(await f.engine.service(JULIET).mayReceive('n', actor), expected === 'ok', label);
        assert.equal(await f.engine.service(JULIET).may('n', actor, 'retrieve'), expected === 'ok', label);
        if (expected === 'ok') {
          const r = await f.engine.service(JULIET).items('n', actor);
          assert.deepEqual(r.items.map((i) => i.id), ['i1'], label);
          const bare = actor.bare;
          const s = await f.engine.service(JULIET).subscribe('n', actor, bare);
          assert.equal(s.subscription, 'subscribed', label);
        } else {
          // Benvolio, a stranger to Juliet, is told nothing: the node does not exist for him (access.ts hidden).
          const [cond, pcond] = who === 'none' ? ['item-not-found', undefined] : CONDITION[expected];
          for (const p of [f.engine.service(JULIET).items('n', actor), f.engine.service(JULIET).subscribe('n', actor, actor.bare)]) {
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

describe('hidden: what a refused entity may learn', () => {
  const model = (accessModel: string) => ({ accessModel: accessModel as 'open', rosterGroupsAllowed: ['Friends'] });
  it('hides a node a stranger may not read, and only from strangers', () => {
    for (const m of ['presence', 'roster', 'whitelist', 'authorize']) {
      assert.equal(hidden({ affiliation: 'none', relationship: NO_RELATIONSHIP }, model(m)), true, m);
      // In the owner's roster, even without subscription or group: told why.
      assert.equal(hidden({ affiliation: 'none', relationship: { subscription: 'none', groups: [], inRoster: true } }, model(m)), false, m);
      assert.equal(hidden({ affiliation: 'none', relationship: { subscription: 'from', groups: [] } }, model(m)), false, m);
      for (const affiliation of ['outcast', 'publish-only', 'member', 'publisher', 'owner'] as const) {
        assert.equal(hidden({ affiliation, relationship: NO_RELATIONSHIP }, model(m)), false, `${m} ${affiliation}`);
      }
    }
    assert.equal(hidden({ affiliation: 'none', relationship: NO_RELATIONSHIP }, model('open')), false, 'open');
  });
});
