// XEP-0030 disco#info queries and their results as plain data.
import { x } from '../xml/index.ts';
import { NS_DISCO_INFO, type DiscoIdentity } from '../protocol/xep0030.ts';
import type { XmppClient } from './client.ts';

export interface DiscoInfo {
  identities: DiscoIdentity[];
  features: Set<string>;
}

export async function discoInfo(client: XmppClient, to?: string, node?: string, timeoutMs?: number): Promise<DiscoInfo> {
  const r = await client.iq(x('iq', { type: 'get', to }, x('query', { xmlns: NS_DISCO_INFO, node })), timeoutMs);
  const q = r.getChild('query', NS_DISCO_INFO);
  const identities: DiscoIdentity[] = [];
  const features = new Set<string>();
  for (const i of q?.getChildren('identity', NS_DISCO_INFO) ?? []) {
    const id: DiscoIdentity = { category: i.attrs.category ?? '', type: i.attrs.type ?? '' };
    if (i.attrs.name !== undefined) id.name = i.attrs.name;
    identities.push(id);
  }
  for (const f of q?.getChildren('feature', NS_DISCO_INFO) ?? []) if (f.attrs.var) features.add(f.attrs.var);
  return { identities, features };
}
