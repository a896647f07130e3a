// XEP-0059 — Result Set Management, version 1.0. Parse a request <set/> and build a response <set/>.
import { Element, x } from '../xml/index.ts';

export const NS_RSM = 'http://jabber.org/protocol/rsm';

export interface RsmQuery {
  max?: number;
  after?: string;
  /** '' (an empty <before/>) requests the last page (§2.5). */
  before?: string;
  index?: number;
}

export interface RsmResponse {
  first?: string;
  firstIndex?: number;
  last?: string;
  count?: number;
}

export class RsmError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RsmError';
  }
}

function nonNegativeInt(s: string, what: string): number {
  const t = s.trim();
  if (!/^\d{1,9}$/.test(t)) throw new RsmError(`invalid <${what}/>: ${s}`);
  return Number(t);
}

/** Parses <set xmlns='http://jabber.org/protocol/rsm'/>; throws RsmError on malformed numbers. */
export function parseRsm(el: Element): RsmQuery {
  if (!el.is('set', NS_RSM)) throw new RsmError('not an RSM <set/>');
  const q: RsmQuery = {};
  const max = el.getChildText('max', NS_RSM);
  if (max !== undefined) q.max = nonNegativeInt(max, 'max');
  const after = el.getChildText('after', NS_RSM);
  if (after !== undefined) q.after = after;
  const before = el.getChildText('before', NS_RSM);
  if (before !== undefined) q.before = before;
  const index = el.getChildText('index', NS_RSM);
  if (index !== undefined) q.index = nonNegativeInt(index, 'index');
  return q;
}

/** Builds a response <set/>: first (with index), last, count — each only when known. */
export function buildRsm(r: RsmResponse): Element {
  const set = x('set', { xmlns: NS_RSM });
  if (r.first !== undefined) set.append(x('first', { index: r.firstIndex !== undefined ? String(r.firstIndex) : undefined }, r.first));
  if (r.last !== undefined) set.append(x('last', null, r.last));
  if (r.count !== undefined) set.append(x('count', null, String(r.count)));
  return set;
}

/** Builds a request <set/> (for clients and tests). */
export function buildRsmQuery(q: RsmQuery): Element {
  const set = x('set', { xmlns: NS_RSM });
  if (q.max !== undefined) set.append(x('max', null, String(q.max)));
  if (q.after !== undefined) set.append(x('after', null, q.after));
  if (q.before !== undefined) set.append(q.before === '' ? x('before') : x('before', null, q.before));
  if (q.index !== undefined) set.append(x('index', null, String(q.index)));
  return set;
}
