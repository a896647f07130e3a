// XEP-0004 — Data Forms, version 2.13.2. Parse and build <x xmlns='jabber:x:data'/>: form types, fields
// with values/options/required/desc, FORM_TYPE (XEP-0068) and the boolean lexical space.
import { Element, x } from '../xml/index.ts';

export const NS_DATA = 'jabber:x:data';

export type DataFormType = 'form' | 'submit' | 'cancel' | 'result';
export type DataFieldType =
  | 'boolean' | 'fixed' | 'hidden' | 'jid-multi' | 'jid-single' | 'list-multi' | 'list-single'
  | 'text-multi' | 'text-private' | 'text-single';

const FORM_TYPES: readonly string[] = ['form', 'submit', 'cancel', 'result'];
const FIELD_TYPES: readonly string[] = [
  'boolean', 'fixed', 'hidden', 'jid-multi', 'jid-single', 'list-multi', 'list-single', 'text-multi', 'text-private', 'text-single',
];

export interface DataFormOption {
  label?: string;
  value: string;
}

export interface DataFormField {
  var?: string;
  type?: DataFieldType;
  label?: string;
  desc?: string;
  required?: boolean;
  values: string[];
  options?: DataFormOption[];
}

export interface DataForm {
  type: DataFormType;
  title?: string;
  instructions?: string[];
  fields: DataFormField[];
}

export class DataFormError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataFormError';
  }
}

/** Parses an <x xmlns='jabber:x:data'/> element; throws DataFormError when it is not a valid form. */
export function parseDataForm(el: Element): DataForm {
  if (!el.is('x', NS_DATA)) throw new DataFormError('not a jabber:x:data form');
  const type = el.attrs.type;
  // §3.1: the 'type' attribute is REQUIRED.
  if (!type || !FORM_TYPES.includes(type)) throw new DataFormError(`invalid form type ${type ?? '(none)'}`);
  const form: DataForm = { type: type as DataFormType, fields: [] };
  const title = el.getChildText('title', NS_DATA);
  if (title !== undefined) form.title = title;
  const instructions = el.getChildren('instructions', NS_DATA).map((i) => i.text());
  if (instructions.length) form.instructions = instructions;
  const seen = new Set<string>();
  for (const f of el.getChildren('field', NS_DATA)) {
    const field: DataFormField = { values: f.getChildren('value', NS_DATA).map((v) => v.text()) };
    const fieldType = f.attrs.type;
    if (fieldType !== undefined) {
      // §3.3: unknown types are treated as text-single.
      field.type = (FIELD_TYPES.includes(fieldType) ? fieldType : 'text-single') as DataFieldType;
    }
    if (f.attrs.var !== undefined) {
      // §3.2: 'var' uniquely identifies the field.
      if (seen.has(f.attrs.var)) throw new DataFormError(`duplicate field ${f.attrs.var}`);
      seen.add(f.attrs.var);
      field.var = f.attrs.var;
    } else if (field.type !== 'fixed') {
      throw new DataFormError('field without var');
    }
    if (f.attrs.label !== undefined) field.label = f.attrs.label;
    const desc = f.getChildText('desc', NS_DATA);
    if (desc !== undefined) field.desc = desc;
    if (f.getChild('required', NS_DATA)) field.required = true;
    const options = f.getChildren('option', NS_DATA).map((o) => {
      const opt: DataFormOption = { value: o.getChildText('value', NS_DATA) ?? '' };
      if (o.attrs.label !== undefined) opt.label = o.attrs.label;
      return opt;
    });
    if (options.length) field.options = options;
    form.fields.push(field);
  }
  return form;
}

/** Builds the <x/> element of a form. */
export function buildDataForm(form: DataForm): Element {
  const el = x('x', { xmlns: NS_DATA, type: form.type });
  if (form.title !== undefined) el.append(x('title', null, form.title));
  for (const i of form.instructions ?? []) el.append(x('instructions', null, i));
  for (const f of form.fields) {
    const field = x('field', { var: f.var, type: f.type, label: f.label });
    if (f.desc !== undefined) field.append(x('desc', null, f.desc));
    if (f.required) field.append(x('required'));
    for (const v of f.values) field.append(x('value', null, v));
    for (const o of f.options ?? []) field.append(x('option', { label: o.label }, x('value', null, o.value)));
    el.append(field);
  }
  return el;
}

/** XEP-0068: the value of the hidden FORM_TYPE field, if any. */
export function getFormType(form: DataForm): string | undefined {
  return form.fields.find((f) => f.var === 'FORM_TYPE')?.values[0];
}

/** Field var → values, in form order (FORM_TYPE included; callers drop it when they need to). */
export function formValues(form: DataForm): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const f of form.fields) if (f.var !== undefined) out.set(f.var, f.values);
  return out;
}

/** §3.3 boolean: "0"/"false" or "1"/"true"; undefined for anything else. */
export function parseFormBoolean(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v === '1' || v === 'true') return true;
  if (v === '0' || v === 'false') return false;
  return undefined;
}

/** The FORM_TYPE hidden field (XEP-0068) to put first in a form. */
export function formTypeField(formType: string): DataFormField {
  return { var: 'FORM_TYPE', type: 'hidden', values: [formType] };
}
