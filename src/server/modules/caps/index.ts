// XEP-0115 Entity Capabilities on the server side: remembers the caps each session announces in its
// presence, asks the client for disco#info once per unknown `ver`, verifies the hash (§5.4) and caches the
// verified result (in memory and in storage, so it survives restarts). Other modules ask the 'caps' service
// "does this full JID want NS+notify?" (XEP-0163 §4.3 filtered notifications).
import type { Element } from '../../../xml/index.ts';
import { x } from '../../../xml/index.ts';
import { defineModule, serviceKey } from '../../core/module-host.ts';
import { createSessionKey, type ModuleSession } from '../../../cluster/index.ts';
import { NS_CAPS, capsHash, capsVerificationString, supportedCapsHash, type CapsFormLike } from '../../../protocol/xep0115.ts';
import { NS_DISCO_INFO } from '../../../protocol/xep0030.ts';
import type { CapsInfo } from '../../../storage/types.ts';

export interface CapsService {
  /** Verified features of a bound session, or undefined while unknown. */
  features(fullJid: string): ReadonlySet<string> | undefined;
  /** XEP-0163 §4.3: true when the session's caps include `${ns}+notify`. */
  wantsNotify(fullJid: string, ns: string): boolean;
}

export const CapsService = serviceKey<CapsService>('caps');

declare module '../../core/events.ts' {
  interface ServerEvents {
    /** Fired by the caps module when a session's entity capabilities became known or changed. */
    'caps/changed': { session: ModuleSession };
  }
}

interface SessionCaps {
  key: string;
  features: ReadonlySet<string> | undefined;
}

const SESSION_CAPS = createSessionKey<SessionCaps>('caps');

export function parseDiscoInfo(query: Element): CapsInfo & { formData: CapsFormLike[] } {
  const identities = query.getChildren('identity').map((i) => ({
    category: i.attrs.category ?? '', type: i.attrs.type ?? '', name: i.attrs.name, lang: i.attrs['xml:lang'],
  }));
  const features = query.getChildren('feature').map((f) => f.attrs.var ?? '');
  const formEls = query.getChildren('x', 'jabber:x:data');
  const formData: CapsFormLike[] = [];
  for (const f of formEls) {
    const fields = f.getChildren('field');
    const ft = fields.find((fl) => fl.attrs.var === 'FORM_TYPE');
    // XEP-0115 §5.4: forms without a hidden FORM_TYPE are ignored.
    if (!ft) continue;
    formData.push({
      formType: ft.getChildText('value') ?? '',
      fields: fields.filter((fl) => fl !== ft).map((fl) => ({ var: fl.attrs.var ?? '', values: fl.getChildren('value').map((v) => v.text()) })),
    });
  }
  return { identities, features, forms: formEls.map((f) => f.toString()), formData };
}

export const capsModule = defineModule({
  name: 'caps',
  provides: [CapsService],
  fires: ['caps/changed'],
  setup(api) {
    const cache = new Map<string, ReadonlySet<string>>();
    /** Queries in flight per key, so a thousand clients with the same new `ver` cause one query. */
    const inflight = new Map<string, Promise<ReadonlySet<string> | undefined>>();

    async function lookup(key: string): Promise<ReadonlySet<string> | undefined> {
      const hit = cache.get(key);
      if (hit) return hit;
      const stored = await api.storage.caps.get(key);
      if (stored) {
        const set = new Set(stored.features);
        cache.set(key, set);
        return set;
      }
      return undefined;
    }

    async function discover(session: ModuleSession, hash: string, node: string, ver: string, key: string): Promise<ReadonlySet<string> | undefined> {
      const domain = session.jid.domain;
      const reply = await api.sendIq(x('iq', { type: 'get', from: domain, to: session.jid.full }, x('query', { xmlns: NS_DISCO_INFO, node: `${node}#${ver}` })));
      const query = reply.getChild('query', NS_DISCO_INFO);
      if (!query) return undefined;
      const info = parseDiscoInfo(query);
      const s = capsVerificationString(info.identities, info.features, info.formData);
      // XEP-0115 §5.4: only a matching hash may be cached and shared between entities.
      if (s === undefined || capsHash(hash, s) !== ver) {
        api.logger.info({ jid: session.jid.full, ver }, 'caps hash did not verify; not caching');
        return new Set(info.features);
      }
      const { formData: _f, ...record } = info;
      await api.storage.caps.put(key, record);
      const set = new Set(info.features);
      cache.set(key, set);
      return set;
    }

    api.hook('outgoing/presence', async ({ stanza, origin, to }) => {
      if (!origin || to !== undefined) return;
      const type = stanza.attrs.type;
      if (type !== undefined && type !== 'unavailable') return;
      if (type === 'unavailable') {
        origin.delete(SESSION_CAPS);
        return;
      }
      const c = stanza.getChild('c', NS_CAPS);
      const hash = c?.attrs.hash;
      const ver = c?.attrs.ver;
      const node = c?.attrs.node;
      // Legacy caps (no hash attribute) cannot be verified and are ignored (XEP-0115 §8.1 lets us).
      if (!c || !hash || !ver || !node || !supportedCapsHash(hash)) {
        if (origin.get(SESSION_CAPS)) {
          origin.delete(SESSION_CAPS);
          void api.fire('caps/changed', { session: origin });
        }
        return;
      }
      const key = `${hash}:${ver}`;
      const prev = origin.get(SESSION_CAPS);
      if (prev?.key === key) return;
      const entry: SessionCaps = { key, features: await lookup(key) };
      origin.set(SESSION_CAPS, entry);
      if (entry.features) {
        await api.fire('caps/changed', { session: origin });
        return;
      }
      // Discovery runs in the background: presence processing must not wait for the client to answer.
      let p = inflight.get(key);
      if (!p) {
        p = discover(origin, hash, node, ver, key).finally(() => inflight.delete(key));
        inflight.set(key, p);
      }
      p.then((features) => {
        if (origin.get(SESSION_CAPS) !== entry || origin.isClosed) return;
        entry.features = features;
        return api.fire('caps/changed', { session: origin });
      }).catch((err) => api.logger.debug({ err: (err as Error).message, jid: origin.jid.full }, 'caps discovery failed'));
    }, 100);

    const features = (fullJid: string) => api.sessions.get(fullJid)?.get(SESSION_CAPS)?.features;
    api.provide(CapsService, {
      features,
      wantsNotify: (fullJid, ns) => features(fullJid)?.has(`${ns}+notify`) ?? false,
    });
  },
});
