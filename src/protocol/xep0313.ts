// XEP-0313 — Message Archive Management, version 1.1 (urn:xmpp:mam:2, with #extended): the query form and
// its fields, result messages, <fin/>, preferences (§6, urn:xmpp:mam:2 prefs as clients still send them)
// and archive metadata.
import { Element, x } from '../xml/index.ts';
import { StanzaError } from './rfc6120.ts';
import { buildDataForm, DataFormError, formTypeField, parseDataForm, NS_DATA, type DataFormField } from './xep0004.ts';
import { parseDateTime, formatDateTime, Xep0082Error } from './xep0082.ts';
import { buildRsm, type RsmResponse } from './xep0059.ts';
import { forwarded } from './xep0297.ts';
import { parseJid, JidError } from '../jid/index.ts';

export const NS_MAM = 'urn:xmpp:mam:2';
/** before-id, after-id, ids and metadata (§4.1.2, §4.1.3, §8). */
export const NS_MAM_EXTENDED = 'urn:xmpp:mam:2#extended';

/** The fields of a query form (§4.1), as the archive applies them; all conditions must hold. */
export interface MamFilter {
  /** Normalised JID: a bare JID matches the messages with any of its resources, a full JID only that one. */
  with?: string;
  /** Inclusive bounds on the time archived, ms since the epoch. */
  start?: number;
  end?: number;
  /** Only messages archived after (before) this one, exclusive (#extended after-id/before-id). */
  afterId?: string;
  beforeId?: string;
  /** Only these ids (#extended ids); ids not in the archive are skipped. */
  ids?: string[];
}

/** The form a client fills in (§4.1.5): returned by an IQ get of <query/>. */
export function queryForm(): Element {
  const fields: DataFormField[] = [
    formTypeField(NS_MAM),
    { var: 'with', type: 'jid-single', values: [] },
    { var: 'start', type: 'text-single', values: [] },
    { var: 'end', type: 'text-single', values: [] },
    { var: 'after-id', type: 'text-single', values: [] },
    { var: 'before-id', type: 'text-single', values: [] },
    { var: 'ids', type: 'text-multi', values: [] },
  ];
  return buildDataForm({ type: 'form', fields });
}

const one = (values: string[], name: string): string => {
  if (values.length !== 1) throw new StanzaError('bad-request', `field ${name} takes one value`);
  return values[0]!.trim();
};

const instant = (values: string[], name: string): number => {
  try {
    return parseDateTime(one(values, name), { allowMissingTzd: false }).getTime();
  } catch (err) {
    if (err instanceof Xep0082Error) throw new StanzaError('bad-request', `field ${name}: ${err.message}`);
    throw err;
  }
};

/** Reads the submitted form of a <query/> (absent: no filter); throws bad-request on what it cannot use. */
export function parseQueryFilter(query: Element): MamFilter {
  const formEl = query.getChild('x', NS_DATA);
  if (!formEl) return {};
  let form;
  try {
    form = parseDataForm(formEl);
  } catch (err) {
    if (err instanceof DataFormError) throw new StanzaError('bad-request', err.message);
    throw err;
  }
  const f: MamFilter = {};
  for (const field of form.fields) {
    const { values } = field;
    switch (field.var) {
      case 'FORM_TYPE':
        if (values[0] !== NS_MAM) throw new StanzaError('bad-request', `FORM_TYPE ${values[0] ?? '(none)'} is not ${NS_MAM}`);
        break;
      case 'with':
        try {
          f.with = parseJid(one(values, 'with')).toString();
        } catch (err) {
          if (err instanceof JidError) throw new StanzaError('bad-request', `field with: ${err.message}`);
          throw err;
        }
        break;
      case 'start':
        f.start = instant(values, 'start');
        break;
      case 'end':
        f.end = instant(values, 'end');
        break;
      case 'after-id':
        f.afterId = one(values, 'after-id');
        break;
      case 'before-id':
        f.beforeId = one(values, 'before-id');
        break;
      case 'ids':
        f.ids = values.map((v) => v.trim()).filter((v) => v !== '');
        break;
      case 'include-groupchat':
        // Only groupchat messages would be added, and a user archive holds none.
        break;
      default:
        // §4.1.5: a field the archive does not support is refused, not ignored.
        throw new StanzaError('bad-request', `unsupported field ${field.var ?? '(none)'}`);
    }
  }
  return f;
}

/** One result message (§4.2): the archived message forwarded with the time it was archived. */
export function resultMessage(to: string, from: string | undefined, queryId: string | undefined, id: string, storedAt: number, message: Element): Element {
  return x('message', { to, from },
    x('result', { xmlns: NS_MAM, queryid: queryId, id }, forwarded(message, formatDateTime(new Date(storedAt), { millis: true }))));
}

/** The <fin/> closing a query (§4.3), with the page's RSM <set/>. */
export function fin(complete: boolean, rsm: RsmResponse): Element {
  return x('fin', { xmlns: NS_MAM, complete: complete ? 'true' : 'false' }, buildRsm(rsm));
}

export type PrefsDefault = 'always' | 'never' | 'roster';

export interface MamPrefs {
  default: PrefsDefault;
  always: string[];
  never: string[];
}

const jidList = (prefs: Element, name: string): string[] => {
  const list = prefs.getChild(name, NS_MAM);
  if (!list) return [];
  const out: string[] = [];
  for (const j of list.getChildren('jid', NS_MAM)) {
    try {
      out.push(parseJid(j.text().trim()).toString());
    } catch (err) {
      if (err instanceof JidError) throw new StanzaError('bad-request', `<${name}/>: ${err.message}`);
      throw err;
    }
  }
  return [...new Set(out)];
};

/** §6.1: <prefs default='…'> with <always/> and <never/> JID lists. */
export function parsePrefs(prefs: Element): MamPrefs {
  const d = prefs.attrs.default;
  if (d !== 'always' && d !== 'never' && d !== 'roster') throw new StanzaError('bad-request', `default must be always, never or roster, not ${d ?? '(none)'}`);
  return { default: d, always: jidList(prefs, 'always'), never: jidList(prefs, 'never') };
}

export function buildPrefs(p: MamPrefs): Element {
  return x('prefs', { xmlns: NS_MAM, default: p.default },
    x('always', null, p.always.map((j) => x('jid', null, j))),
    x('never', null, p.never.map((j) => x('jid', null, j))));
}

/** §8 archive metadata: the oldest and newest message, or nothing for an empty archive. */
export function buildMetadata(first?: { id: string; storedAt: number }, last?: { id: string; storedAt: number }): Element {
  const stamp = (t: number) => formatDateTime(new Date(t));
  return x('metadata', { xmlns: NS_MAM },
    first && x('start', { id: first.id, timestamp: stamp(first.storedAt) }),
    last && x('end', { id: last.id, timestamp: stamp(last.storedAt) }));
}
