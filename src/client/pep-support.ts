// XEP-0222 §5: keys go to PEP only when our account exposes a PEP service (the pubsub/pep identity) that
// supports publish-options, so the service can promise to keep the key and limit who sees it.
import { PEP_IDENTITY } from '../protocol/xep0163.ts';
import type { XmppClient } from './client.ts';
import { discoInfo } from './disco.ts';
import type { KeyProblem } from './errors.ts';

const ACCESS_FEATURE = 'http://jabber.org/protocol/pubsub#access-';

export interface PepSupport {
  pep: boolean;
  publishOptions: boolean;
  accessModels: Set<string>;
  /** What is missing, in a plain sentence with its code (undefined when all is there). */
  problem?: KeyProblem;
}

export async function checkPepSupport(client: XmppClient, timeoutMs: number): Promise<PepSupport> {
  let info;
  try {
    info = await discoInfo(client, client.jid.bare, undefined, timeoutMs);
  } catch (e) {
    return { pep: false, publishOptions: false, accessModels: new Set(), problem: { code: 'discovery-failed', message: `cannot discover your account's services (${(e as Error).message})` } };
  }
  const pep = info.identities.some((i) => i.category === PEP_IDENTITY.category && i.type === PEP_IDENTITY.type);
  const publishOptions = info.features.has('http://jabber.org/protocol/pubsub#publish-options');
  const accessModels = new Set([...info.features].filter((f) => f.startsWith(ACCESS_FEATURE)).map((f) => f.slice(ACCESS_FEATURE.length)));
  const s: PepSupport = { pep, publishOptions, accessModels };
  if (!pep) s.problem = { code: 'no-pep', message: 'your server does not offer a PEP service (XEP-0163), so keys cannot be published there' };
  else if (!publishOptions) s.problem = { code: 'no-publish-options', message: "your server's PEP service does not support publish-options (XEP-0222 §5), so it cannot promise to keep your key or limit who sees it" };
  return s;
}
