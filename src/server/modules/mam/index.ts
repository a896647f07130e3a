// XEP-0313 Message Archive Management for user archives. Every chat or normal message with a body (or a
// <store/> hint) that an account sends or receives is archived once in that account's archive, under a
// random id; an incoming message carries that id to the recipient's clients as a XEP-0359 <stanza-id/>.
// A <stanza-id/> naming one of our own JIDs that did not come from us is removed first (XEP-0359 §5).
// Retention: about `max_items_per_user` per archive (trimmed every 64 messages), and, with `max_age_days`,
// an hourly sweep.
import { z } from 'zod';
import type { Element } from '../../../xml/index.ts';
import type { Jid } from '../../../jid/index.ts';
import { defineModule } from '../../core/module-host.ts';
import { clientCopy } from '../../../protocol/xep0297.ts';
import { newStanzaId, stanzaId, stripStanzaIds, NS_SID } from '../../../protocol/xep0359.ts';
import { NS_MAM, NS_MAM_EXTENDED, type MamPrefs } from '../../../protocol/xep0313.ts';
import { isArchivable, prefsAllow } from './policy.ts';
import { mamIqHandler } from './query.ts';

const DAY_MS = 86_400_000;
const SWEEP_INTERVAL_MS = 3_600_000;
const PREFS_CACHE = 10_000;
const TRIM_EVERY = 64;

export const mamModule = defineModule({
  name: 'mam',
  options: z.strictObject({
    /** Messages older than this many days are deleted by an hourly sweep; 0 keeps them until the item limit. */
    max_age_days: z.number().nonnegative().prefault(0),
    /** Newest messages kept per account; older ones are dropped as new ones arrive. */
    max_items_per_user: z.number().int().positive().prefault(10_000),
    /** Archiving preference of an account that has not set its own (XEP-0313 §6.1). */
    default: z.enum(['always', 'never', 'roster']).prefault('always'),
    /** Results per page when the client names no RSM <max/>, and the most it may ask for. */
    page_size: z.number().int().positive().prefault(50),
    max_page_size: z.number().int().positive().prefault(250),
  }),
  setup(api) {
    const archive = api.storage.archive;
    const o = api.options;
    const isOurs = (by: string) => {
      const at = by.indexOf('@');
      const domain = (at < 0 ? by : by.slice(at + 1)).split('/')[0]!;
      return api.isLocalDomain(domain);
    };
    // Preferences are read for every archived message; from storage, each read would wait behind the
    // archive writes issued before it (and their fsync). They change only through this module, so the
    // accounts in use keep theirs here. (Servers sharing a PostgreSQL database see another server's change
    // once it falls out of this cache.)
    const cached = new Map<string, MamPrefs>();
    const prefs = async (owner: string): Promise<MamPrefs> => {
      const hit = cached.get(owner);
      if (hit) return hit;
      const p = (await archive.getPrefs(owner)) ?? { default: o.default, always: [], never: [] };
      if (cached.size >= PREFS_CACHE) cached.delete(cached.keys().next().value!);
      cached.set(owner, p);
      return p;
    };
    const setPrefs = async (owner: string, p: MamPrefs) => {
      cached.delete(owner);
      await archive.setPrefs(owner, p);
      cached.delete(owner);
    };
    const inRoster = (owner: string) => async (bare: string) => (await api.storage.roster.getItem(owner, bare)) !== undefined;

    /** Messages archived per owner since its last trim. */
    const appended = new Map<string, number>();
    /** Archives a copy in `owner`'s archive when its preferences allow; returns the id, or undefined. */
    const store = async (owner: string, peer: string, message: Element): Promise<string | undefined> => {
      if (!(await prefsAllow(await prefs(owner), peer, inRoster(owner)))) return undefined;
      const id = newStanzaId();
      const copy = clientCopy(message);
      // Not awaited: the message goes on at once, and reads of the archive wait behind this write (storage
      // settles in issue order), so a client that queries after receiving it finds it.
      archive.append(owner, { id, with: peer, storedAt: Date.now(), stanza: copy.toString() }).catch((err: unknown) => {
        api.logger.error({ err, owner }, 'could not archive a message');
      });
      // The item limit is enforced every TRIM_EVERY messages of an archive (and at its first in this
      // process): a trim walks max_items_per_user index entries, too much for every message.
      const since = appended.get(owner);
      if (since === undefined || since + 1 >= TRIM_EVERY) {
        appended.set(owner, 0);
        archive.trim(owner, o.max_items_per_user).catch((err: unknown) => api.logger.error({ err, owner }, 'could not trim an archive'));
      } else {
        appended.set(owner, since + 1);
      }
      return id;
    };

    // Account deletion (core/account-lifecycle.ts): the archive goes with the account.
    api.hook('account/deleted', async ({ jid }) => {
      appended.delete(jid);
      await archive.removeOwner(jid);
    });

    // Outgoing: into the sender's archive. A message to the sender's own account is archived once, as
    // incoming. Low priority: a module that refuses the message (blocking) has the first word.
    api.hook('outgoing/message', async ({ stanza, from, to }) => {
      stripStanzaIds(stanza, isOurs);
      if (!to || to.bare === from.bare || !isArchivable(stanza)) return;
      await store(from.bare, to.toString(), stanza);
    }, -10);

    // Incoming: into the recipient's archive, before carbons and offline storage copy it, so that every copy
    // carries the id.
    api.hook('incoming/message', async ({ stanza, from, to }: { stanza: Element; from: Jid; to: Jid }) => {
      stripStanzaIds(stanza, isOurs);
      if (!isArchivable(stanza)) return;
      const id = await store(to.bare, from.toString(), stanza);
      if (id !== undefined) stanza.append(stanzaId(to.bare, id));
    }, -10);

    api.handleIq('account', NS_MAM, mamIqHandler({
      archive,
      session: (ctx) => (ctx.origin && !ctx.origin.isClosed ? ctx.origin : api.sessions.get(ctx.from.full)),
      prefs,
      setPrefs,
      defaultPage: o.page_size,
      maxPage: o.max_page_size,
    }));
    api.addFeature('account', NS_MAM);
    api.addFeature('account', NS_MAM_EXTENDED);
    api.addFeature('account', NS_SID);

    if (o.max_age_days > 0) {
      const sweep = () => {
        archive.expire(Date.now() - o.max_age_days * DAY_MS).then(
          (n) => n > 0 && api.logger.info({ deleted: n }, 'archive retention sweep'),
          (err: unknown) => api.logger.error({ err }, 'archive retention sweep failed'),
        );
      };
      sweep();
      const timer = setInterval(sweep, SWEEP_INTERVAL_MS);
      timer.unref();
      api.onStop(() => clearInterval(timer));
    }
  },
});
