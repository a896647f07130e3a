// XEP-0049 Private XML Storage, kept in the account's PEP service the way XEP-0223 keeps private data: one node
// per namespace, item `current`, persist_items and the whitelist access model (the owner alone). So a client
// using jabber:iq:private (profanity, Pidgin, older Gajim for XEP-0048 bookmarks) and one using XEP-0223 nodes
// see the same data, and it is as durable as every other PEP item; no store of its own is needed.
import { defineModule } from '../../core/module-host.ts';
import { StanzaError } from '../../../protocol/rfc6120.ts';
import { NS_PRIVATE, isReservedPrivateNamespace } from '../../../protocol/xep0049.ts';
import { PubsubError } from '../../pubsub/errors.ts';
import { PepService } from '../pep/index.ts';
import { Element, parseXml, x } from '../../../xml/index.ts';
import type { NodeConfig } from '../../../storage/types.ts';

/** XEP-0223 §3's publish-options: if a node of that name exists with another configuration (e.g. open), the
 * precondition fails and the data is not written, rather than made readable by others. */
const PRIVATE_NODE: NodeConfig = { persist_items: 'true', access_model: 'whitelist' };
const ITEM_ID = 'current';

export const privateModule = defineModule({
  name: 'private',
  requires: ['pep'],
  setup(api) {
    const engine = api.use(PepService);
    api.addFeature('account', NS_PRIVATE);

    api.handleIq('account', NS_PRIVATE, async ({ from, to, type, payload }) => {
      // §3: only the account itself, whatever the resource; anyone else is refused outright.
      if (from.bare !== to.bare) throw new StanzaError('forbidden', 'private XML storage belongs to its own account only');
      const fragments = payload.elements;
      if (fragments.length === 0) throw new StanzaError('bad-request', 'the query must hold the element to get or store');
      for (const f of fragments) {
        if (!f.ns || isReservedPrivateNamespace(f.ns)) throw new StanzaError('not-acceptable', `namespace ${f.ns || '(none)'} cannot be stored`);
      }
      const service = engine.service(to);
      if (type === 'get') {
        const found: Element[] = [];
        for (const f of fragments) found.push((await stored(f)) ?? x(f.name, { xmlns: f.ns }));
        return x('query', { xmlns: NS_PRIVATE }, ...found);
      }
      for (const f of fragments) {
        try {
          await service.publish(f.ns, from, { id: ITEM_ID, payload: f.toString() }, { options: PRIVATE_NODE });
        } catch (err) {
          if (err instanceof PubsubError && err.condition === 'conflict') {
            throw new StanzaError('conflict', `a PEP node named ${f.ns} exists with another access model; not storing private data in it`);
          }
          throw err;
        }
      }
      return undefined;

      /** The stored fragment for this element and namespace, if any. */
      async function stored(asked: Element): Promise<Element | undefined> {
        try {
          const r = await service.items(asked.ns, from, { ids: [ITEM_ID] });
          const payloadXml = r.items[0]?.payload;
          if (!payloadXml) return undefined;
          const el = parseXml(payloadXml);
          return el.local === asked.local ? el : undefined;
        } catch (err) {
          if (err instanceof PubsubError && err.condition === 'item-not-found') return undefined;
          throw err;
        }
      }
    });
  },
});
