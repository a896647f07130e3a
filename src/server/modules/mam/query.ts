// The archive's IQ protocol (XEP-0313): the query form (§4.1.5), queries with XEP-0059 paging (§4), the
// owner's preferences (§6) and the archive's metadata (§8). Only the owner reaches an archive.
import { RawXml, type Element } from '../../../xml/index.ts';
import { StanzaError } from '../../../protocol/rfc6120.ts';
import { parseRsm, RsmError, NS_RSM } from '../../../protocol/xep0059.ts';
import { buildMetadata, buildPrefs, fin, parsePrefs, parseQueryFilter, queryForm, resultMessage, NS_MAM, type MamPrefs } from '../../../protocol/xep0313.ts';
import { x } from '../../../xml/index.ts';
import type { IqContext } from '../../core/stanza-context.ts';
import type { ModuleSession } from '../../../cluster/index.ts';
import { ArchiveIdNotFoundError, type ArchivePageQuery, type ArchiveStore } from '../../../storage/types.ts';

export interface QueryDeps {
  archive: ArchiveStore;
  /** Where results go: the querying session. */
  session(ctx: IqContext): ModuleSession | undefined;
  prefs(owner: string): Promise<MamPrefs>;
  setPrefs(owner: string, prefs: MamPrefs): Promise<void>;
  /** Page size when the client names none, and the largest it may ask for. */
  defaultPage: number;
  maxPage: number;
}

export function mamIqHandler(d: QueryDeps) {
  return async (ctx: IqContext): Promise<Element | void> => {
    const { payload, type } = ctx;
    // The archive of an account answers its owner only (§3.4 leaves others to policy: none here).
    if (ctx.from.bare !== ctx.to.bare) throw new StanzaError('forbidden', 'only the owner may use this archive');
    const owner = ctx.to.bare;
    switch (payload.local) {
      case 'query':
        if (type === 'get') return x('query', { xmlns: NS_MAM }, queryForm());
        return runQuery(d, ctx, owner);
      case 'prefs':
        if (type === 'get') return buildPrefs(await d.prefs(owner));
        {
          const prefs = parsePrefs(payload);
          await d.setPrefs(owner, prefs);
          return buildPrefs(prefs);
        }
      case 'metadata': {
        if (type !== 'get') throw new StanzaError('bad-request', 'metadata is read with an IQ get');
        const [first, last] = await Promise.all([d.archive.query(owner, { max: 1 }), d.archive.query(owner, { max: 1, last: true })]);
        return buildMetadata(first.messages[0], last.messages[0]);
      }
      default:
        throw new StanzaError('feature-not-implemented', `<${payload.local}/> is not understood`);
    }
  };
}

async function runQuery(d: QueryDeps, ctx: IqContext, owner: string): Promise<Element> {
  const { payload } = ctx;
  const q: ArchivePageQuery = { ...parseQueryFilter(payload), max: d.defaultPage };
  const setEl = payload.getChild('set', NS_RSM);
  if (setEl) {
    let rsm;
    try {
      rsm = parseRsm(setEl);
    } catch (err) {
      if (err instanceof RsmError) throw new StanzaError('bad-request', err.message);
      throw err;
    }
    // XEP-0059 §2.6: page by index is optional; ids and timestamps serve MAM clients.
    if (rsm.index !== undefined) throw new StanzaError('feature-not-implemented', 'RSM <index/> is not supported; page with after/before');
    if (rsm.max !== undefined) q.max = Math.min(rsm.max, d.maxPage);
    if (rsm.after !== undefined) q.after = rsm.after;
    if (rsm.before === '') q.last = true;
    else if (rsm.before !== undefined) q.before = rsm.before;
  }
  let page;
  try {
    page = await d.archive.query(owner, q);
  } catch (err) {
    if (err instanceof ArchiveIdNotFoundError || (err as { code?: string }).code === 'ARCHIVE_ID_NOT_FOUND') {
      throw new StanzaError('item-not-found', 'no message with that id in the archive');
    }
    throw err;
  }
  const session = d.session(ctx);
  const queryId = payload.attrs.queryid;
  // §4.2: the results precede the IQ result, addressed from the archive (the 'to' the client asked).
  const messages = payload.getChild('flip-page', NS_MAM) ? [...page.messages].reverse() : page.messages;
  for (const m of messages) {
    session?.deliver(resultMessage(ctx.from.full, ctx.stanza.attrs.to, queryId, m.id, m.storedAt, RawXml.of(m.stanza)));
  }
  const first = page.messages[0];
  const last = page.messages[page.messages.length - 1];
  return fin(page.complete, first && last ? { first: first.id, firstIndex: page.index, last: last.id, count: page.count } : { count: page.count });
}
