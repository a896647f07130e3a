// XEP-0115 Entity Capabilities for our own client: the verification string and hash of what we advertise
// (identity + disco features), the <c/> element for presence, and matching of the server's disco#info query
// for `node#ver`. PEP servers use these features (`NS+notify`, XEP-0163 §4.3.3) to decide which notifications
// to send us, so the feature list must be exact.
import { x, type Element } from '../xml/index.ts';
import { NS_CAPS, capsHash, capsVerificationString } from '../protocol/xep0115.ts';
import { NS_DISCO_INFO, type DiscoIdentity } from '../protocol/xep0030.ts';

export const DEFAULT_CAPS_NODE = 'https://github.com/pepkeys/pepkeys';

export interface CapsSpec {
  node: string;
  identities: DiscoIdentity[];
  features: string[];
}

export function capsVer(spec: CapsSpec): string {
  const s = capsVerificationString(spec.identities, uniqueSorted(spec.features), []);
  if (s === undefined) throw new Error('duplicate identities or features in caps');
  return capsHash('sha-1', s);
}

export function capsElement(spec: CapsSpec): Element {
  return x('c', { xmlns: NS_CAPS, hash: 'sha-1', node: spec.node, ver: capsVer(spec) });
}

/** The disco#info answer describing us; `node` is echoed when the query named one (XEP-0115 §6.2). */
export function discoInfoResult(spec: CapsSpec, node?: string): Element {
  const q = x('query', { xmlns: NS_DISCO_INFO, node });
  for (const i of spec.identities) q.append(x('identity', { category: i.category, type: i.type, name: i.name, 'xml:lang': i.lang }));
  for (const f of uniqueSorted(spec.features)) q.append(x('feature', { var: f }));
  return q;
}

/** Whether a disco#info query's node is one we answer: none, or `capsnode#ver` of our current caps. */
export function answersNode(spec: CapsSpec, node: string | undefined): boolean {
  return node === undefined || node === `${spec.node}#${capsVer(spec)}`;
}

export function uniqueSorted(features: Iterable<string>): string[] {
  return [...new Set(features)].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}
