// Issue 20: the fan-out asks `receivesEvent`, which answers from the cached roster relationship without a
// parse or a promise. It must answer exactly as `mayReceiveEvent` does, for every kind of recipient, with the
// cache cold and warm, and it must not answer from a relationship the roster has since changed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BALCONY, BENVOLIO, FRIAR, JULIET, MERCUTIO, NURSE, PARIS, ROMEO, TYBALT, jid, payload, setup } from './helpers.ts';
import type { PubsubEvent } from '../../../src/server/pubsub/events.ts';
import type { NodeConfig } from '../../../src/storage/types.ts';

const WHO = [JULIET, BALCONY, ROMEO, `${ROMEO}/orchard`, NURSE, BENVOLIO, TYBALT, MERCUTIO, PARIS, FRIAR, 'Romeo@Montague.lit', 'not a jid@@'];

async function answers(decide: (who: string) => boolean | Promise<boolean>): Promise<Record<string, boolean>> {
  const out: Record<string, boolean> = {};
  for (const who of WHO) out[who] = await decide(who);
  return out;
}

describe('receivesEvent (issue 20)', () => {
  for (const model of ['presence', 'roster', 'open', 'whitelist'] as const) {
    it(`answers as mayReceiveEvent, cold and warm: access model ${model}`, async () => {
      const { engine, relationshipCalls } = setup();
      const options: NodeConfig = model === 'roster' ? { access_model: model, roster_groups_allowed: ['Friends'] } : { access_model: model };
      await engine.service(JULIET).publish('n', jid(BALCONY), { payload: payload(0) }, { options });
      await engine.service(JULIET).setNodeAffiliations('n', jid(BALCONY), [{ jid: PARIS, affiliation: 'outcast' }, { jid: FRIAR, affiliation: 'member' }]);
      const r = await engine.service(JULIET).publish('n', jid(BALCONY), { payload: payload(1) });
      const event = r.event as PubsubEvent;
      const cold = await answers((who) => engine.receivesEvent(event, who));
      const expected = await answers((who) => engine.mayReceiveEvent(event, who));
      const warm = await answers((who) => engine.receivesEvent(event, who));
      assert.deepEqual(cold, expected);
      assert.deepEqual(warm, expected);
      if (model !== 'whitelist') {
        // Warm, the cached contacts are answered synchronously and the roster is not asked again.
        const calls = relationshipCalls();
        assert.equal(typeof engine.receivesEvent(event, ROMEO), 'boolean');
        assert.equal(relationshipCalls(), calls);
      }
    });
  }

  it('a roster change reaches the answer (the cached relationship is dropped with it)', async () => {
    const { engine, roster } = setup();
    const r = await engine.service(JULIET).publish('n', jid(BALCONY), { payload: payload(1) });
    const event = r.event as PubsubEvent;
    assert.equal(await engine.receivesEvent(event, ROMEO), true);
    roster.set(ROMEO, { subscription: 'none', groups: [] });
    await engine.service(JULIET).relationshipChanged(ROMEO);
    assert.equal(await engine.receivesEvent(event, ROMEO), false);
    assert.equal(await engine.mayReceiveEvent(event, ROMEO), false);
  });
});
