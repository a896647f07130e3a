import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseXml } from '../../src/xml/index.ts';
import {
  buildDataForm, DataFormError, formTypeField, formValues, getFormType, parseDataForm, parseFormBoolean,
} from '../../src/protocol/xep0004.ts';

describe('XEP-0004 data forms', () => {
  it('parses a submitted form with FORM_TYPE, single and multiple values', () => {
    const form = parseDataForm(parseXml(`
      <x xmlns='jabber:x:data' type='submit'>
        <field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>
        <field var='pubsub#persist_items'><value>true</value></field>
        <field var='pubsub#roster_groups_allowed' type='list-multi'><value>Friends</value><value>Family</value></field>
        <field var='pubsub#title'/>
      </x>`));
    assert.equal(form.type, 'submit');
    assert.equal(getFormType(form), 'http://jabber.org/protocol/pubsub#publish-options');
    assert.deepEqual(formValues(form), new Map([
      ['FORM_TYPE', ['http://jabber.org/protocol/pubsub#publish-options']],
      ['pubsub#persist_items', ['true']],
      ['pubsub#roster_groups_allowed', ['Friends', 'Family']],
      ['pubsub#title', []],
    ]));
    assert.equal(form.fields[2].type, 'list-multi');
  });

  it('parses title, instructions, labels, desc, required, options; unknown types become text-single', () => {
    const form = parseDataForm(parseXml(`
      <x xmlns='jabber:x:data' type='form'>
        <title>Bot</title><instructions>Fill</instructions><instructions>it</instructions>
        <field var='a' type='list-single' label='A'><desc>pick</desc><required/><option label='One'><value>1</value></option><option><value>2</value></option></field>
        <field var='b' type='weird'/>
        <field type='fixed'><value>section</value></field>
      </x>`));
    assert.equal(form.title, 'Bot');
    assert.deepEqual(form.instructions, ['Fill', 'it']);
    assert.deepEqual(form.fields[0], {
      var: 'a', type: 'list-single', label: 'A', desc: 'pick', required: true, values: [],
      options: [{ label: 'One', value: '1' }, { value: '2' }],
    });
    assert.equal(form.fields[1].type, 'text-single');
    assert.equal(form.fields[2].var, undefined);
  });

  it('rejects non-forms, missing or bad type, fields without var, duplicate vars', () => {
    for (const xml of [
      `<x xmlns='urn:other' type='submit'/>`,
      `<x xmlns='jabber:x:data'/>`,
      `<x xmlns='jabber:x:data' type='nope'/>`,
      `<x xmlns='jabber:x:data' type='submit'><field><value>1</value></field></x>`,
      `<x xmlns='jabber:x:data' type='submit'><field var='a'/><field var='a'/></x>`,
    ]) assert.throws(() => parseDataForm(parseXml(xml)), DataFormError, xml);
  });

  it('builds a form that parses back to the same data', () => {
    const data = {
      type: 'form' as const,
      title: 'T',
      instructions: ['I'],
      fields: [
        formTypeField('urn:x'),
        { var: 'b', type: 'boolean' as const, label: 'B', values: ['1'] },
        { var: 'l', type: 'list-single' as const, values: ['x'], options: [{ label: 'X', value: 'x' }, { value: 'y' }] },
        { var: 'r', required: true, desc: 'D', values: [] },
      ],
    };
    const el = buildDataForm(data);
    assert.equal(el.toString().startsWith(`<x xmlns="jabber:x:data" type="form"><title>T</title><instructions>I</instructions>`), true);
    assert.deepEqual(parseDataForm(parseXml(el.toString())), data);
  });

  it('booleans (§3.3)', () => {
    assert.equal(parseFormBoolean('1'), true);
    assert.equal(parseFormBoolean('true'), true);
    assert.equal(parseFormBoolean('0'), false);
    assert.equal(parseFormBoolean(' false '), false);
    assert.equal(parseFormBoolean('yes'), undefined);
    assert.equal(parseFormBoolean(undefined), undefined);
  });
});
