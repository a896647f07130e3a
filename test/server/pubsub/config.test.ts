import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  effectiveConfig, effectiveMaxItems, normalizeConfig, normalizeField, PEP_DEFAULT_CONFIG, typedConfig,
} from '../../../src/server/pubsub/config.ts';

describe('node_config coercion and validation', () => {
  it('booleans accept 1/true/0/false (XEP-0004 §3.3) and store canonically', () => {
    for (const [v, out] of [['1', 'true'], ['true', 'true'], ['0', 'false'], ['false', 'false'], [['1'], 'true']] as const) {
      assert.deepEqual(normalizeField('persist_items', v as string), { ok: true, value: out });
    }
    assert.equal(normalizeField('persist_items', 'yes').ok, false);
    assert.equal(normalizeField('persist_items', ['1', '0']).ok, false);
  });

  it('max_items: positive integers or max', () => {
    assert.deepEqual(normalizeField('max_items', '10'), { ok: true, value: '10' });
    assert.deepEqual(normalizeField('max_items', '007'), { ok: true, value: '7' });
    assert.deepEqual(normalizeField('max_items', 'max'), { ok: true, value: 'max' });
    for (const bad of ['0', '-1', 'abc', '', '1.5']) assert.equal(normalizeField('max_items', bad).ok, false, bad);
  });

  it('roster_groups_allowed is a list-multi: a set, sorted and deduplicated', () => {
    assert.deepEqual(normalizeField('roster_groups_allowed', 'Friends'), { ok: true, value: ['Friends'] });
    assert.deepEqual(normalizeField('roster_groups_allowed', ['b', 'a', 'b']), { ok: true, value: ['a', 'b'] });
    assert.deepEqual(normalizeField('roster_groups_allowed', []), { ok: true, value: [] });
  });

  it('list-single values must be among the options; authorize is reported as unsupported', () => {
    assert.deepEqual(normalizeField('access_model', 'roster'), { ok: true, value: 'roster' });
    assert.deepEqual(normalizeField('send_last_published_item', 'never'), { ok: true, value: 'never' });
    assert.deepEqual(normalizeField('access_model', 'bogus'), { ok: false, problem: { kind: 'bad-value', field: 'access_model', value: 'bogus' } });
    assert.deepEqual(normalizeField('access_model', 'authorize'), {
      ok: false, problem: { kind: 'unsupported-access-model', field: 'access_model', value: 'authorize' },
    });
  });

  it('unknown fields are reported, not stored', () => {
    assert.deepEqual(normalizeConfig({ title: 't', frobnicate: '1' }), { ok: false, problem: { kind: 'unknown-field', field: 'frobnicate' } });
    assert.deepEqual(normalizeConfig({ title: 't', deliver_payloads: '0' }), { ok: true, config: { title: 't', deliver_payloads: 'false' } });
  });

  it('PEP defaults (XEP-0163 §8) and the XEP-0222 choice of max_items', () => {
    const t = typedConfig(effectiveConfig({}));
    assert.equal(t.accessModel, 'presence');
    assert.equal(t.persistItems, true);
    assert.equal(t.sendLastPublishedItem, 'on_sub_and_presence');
    assert.equal(t.deliverPayloads, true);
    assert.equal(t.deliverNotifications, true);
    assert.equal(t.notifyRetract, true);
    assert.equal(t.notifyDelete, true);
    assert.equal(t.notifyConfig, false);
    assert.equal(t.maxItems, undefined);
    assert.equal(PEP_DEFAULT_CONFIG.max_items, 'max');
    assert.equal(effectiveMaxItems(t, 50), 50);
    assert.equal(effectiveMaxItems(typedConfig(effectiveConfig({ max_items: '3' })), 50), 3);
    assert.equal(effectiveMaxItems(typedConfig(effectiveConfig({ max_items: '300' })), 50), 50);
    // A transient node caches only its last item.
    assert.equal(effectiveMaxItems(typedConfig(effectiveConfig({ persist_items: 'false' })), 50), 1);
  });

  it('effectiveConfig drops fields we no longer know from stored configs', () => {
    const c = effectiveConfig({ access_model: 'open', legacy_field: 'x' });
    assert.equal(c.access_model, 'open');
    assert.equal('legacy_field' in c, false);
  });
});
