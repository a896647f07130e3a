// XEP-0030 Service Discovery for served domains and, on the account's behalf, for accounts. Features and
// identities come from every module (api.addFeature / addIdentity); node-level info and item lists come
// from providers registered through the 'disco' service (PEP lists its nodes that way).
import { x, type Element } from '../../../xml/index.ts';
import type { Jid } from '../../../jid/index.ts';
import { DiscoRegistryService, defineModule, serviceKey } from '../../core/module-host.ts';
import type { IqScope } from '../../core/iq-handlers.ts';
import { NS_DISCO_INFO, NS_DISCO_ITEMS, type DiscoIdentity } from '../../../protocol/xep0030.ts';
import { StanzaError } from '../../../protocol/rfc6120.ts';

export interface DiscoRequest {
  from: Jid;
  to: Jid;
  node: string | undefined;
}

export interface DiscoInfo {
  identities: DiscoIdentity[];
  features: string[];
  /** XEP-0128 extended info forms. */
  forms?: Element[];
}

export interface DiscoItem {
  jid: string;
  node?: string;
  name?: string;
}

export interface DiscoService {
  /** Answers disco#info for a node; return undefined when the node is not yours. */
  addNodeInfoProvider(scope: IqScope, fn: (req: DiscoRequest) => Promise<DiscoInfo | undefined>): void;
  /** Contributes items to disco#items (node undefined = the entity's top level). */
  addItemsProvider(scope: IqScope, fn: (req: DiscoRequest) => Promise<DiscoItem[]>): void;
}

export const DiscoService = serviceKey<DiscoService>('disco');

export function infoElement(info: DiscoInfo, node?: string): Element {
  const q = x('query', { xmlns: NS_DISCO_INFO, node });
  for (const i of info.identities) q.append(x('identity', { category: i.category, type: i.type, name: i.name, 'xml:lang': i.lang }));
  for (const f of [...new Set(info.features)].sort()) q.append(x('feature', { var: f }));
  for (const f of info.forms ?? []) q.append(f);
  return q;
}

export const discoModule = defineModule({
  name: 'disco',
  provides: [DiscoService],
  setup(api) {
    const infoProviders: Record<IqScope, ((r: DiscoRequest) => Promise<DiscoInfo | undefined>)[]> = { host: [], account: [] };
    const itemsProviders: Record<IqScope, ((r: DiscoRequest) => Promise<DiscoItem[]>)[]> = { host: [], account: [] };
    api.provide(DiscoService, {
      addNodeInfoProvider: (scope, fn) => infoProviders[scope].push(fn),
      addItemsProvider: (scope, fn) => itemsProviders[scope].push(fn),
    });
    const registry = api.use(DiscoRegistryService);
    for (const scope of ['host', 'account'] as const) {
      api.addFeature(scope, NS_DISCO_INFO);
      api.addFeature(scope, NS_DISCO_ITEMS);
      api.handleIq(scope, NS_DISCO_INFO, async ({ type, payload, from, to }) => {
        if (type !== 'get') throw new StanzaError('bad-request', 'disco#info is an IQ get');
        const node = payload.attrs.node;
        if (node === undefined) {
          const identities = [...registry.identities[scope]];
          // XEP-0030 §3.1: an account answered by its server shows account/registered to those allowed to know.
          if (scope === 'account') identities.unshift({ category: 'account', type: 'registered' });
          else if (!identities.some((i) => i.category === 'server')) identities.unshift({ category: 'server', type: 'im', name: 'pepkeys' });
          return infoElement({ identities, features: [...registry.features[scope]] });
        }
        for (const p of infoProviders[scope]) {
          const info = await p({ from, to, node });
          if (info) return infoElement(info, node);
        }
        throw new StanzaError('item-not-found');
      });
      api.handleIq(scope, NS_DISCO_ITEMS, async ({ type, payload, from, to }) => {
        if (type !== 'get') throw new StanzaError('bad-request', 'disco#items is an IQ get');
        const node = payload.attrs.node;
        const q = x('query', { xmlns: NS_DISCO_ITEMS, node });
        for (const p of itemsProviders[scope]) {
          for (const it of await p({ from, to, node })) q.append(x('item', { jid: it.jid, node: it.node, name: it.name }));
        }
        return q;
      });
    }
  },
});
