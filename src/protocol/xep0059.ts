// XEP-0059 — Result Set Management, version 1.0. Parse a request <set/>, page a list, build a response <set/>.
import { Element, x } from '../xml/index.ts';
import { StanzaError } from './rfc6120.ts';

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

/**
 * One page of `all` (kept in its own order, e.g. newest first) and the response describing it: `index`
 * (§2.6; past the end is an empty page), the items after `after`, the items before `before` ('' = the last
 * page, §2.5), else the first page; `max` bounds the page. An anchor that is not in the list is an error.
 */
export function pageOf<T extends { id: string }>(all: readonly T[], q: RsmQuery): { page: T[]; response: RsmResponse & { count: number } } {
  const max = q.max === undefined ? all.length : Math.max(0, q.max);
  let start = 0;
  let end = max;
  if (q.index !== undefined) {
    start = Math.max(0, q.index);
    end = start + max;
  } else if (q.after !== undefined) {
    const i = all.findIndex((x) => x.id === q.after);
    // The anchor item is gone and its position unknown.
    if (i < 0) throw new StanzaError('item-not-found', 'RSM <after/> item not found');
    start = i + 1;
    end = start + max;
  } else if (q.before !== undefined) {
    end = all.length;
    if (q.before !== '') {
      end = all.findIndex((x) => x.id === q.before);
      if (end < 0) throw new StanzaError('item-not-found', 'RSM <before/> item not found');
    }
    start = Math.max(0, end - max);
  }
  const page = all.slice(start, end);
  const response: RsmResponse & { count: number } = { count: all.length };
  if (page.length > 0) {
    response.first = page[0]!.id;
    response.firstIndex = start;
    response.last = page[page.length - 1]!.id;
  }
  return { page, response };
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
