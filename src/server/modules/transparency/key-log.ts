// Turns the pubsub engine's writes into key events (server/pubsub/engine.ts KeyLog): only key nodes
// (transparency/key-events.ts) of served domains' accounts. What the leaf derives from the payload (its hash,
// the key's fingerprint) is the store's to compute (deriveKeyEvent): SQLite does it off the event loop.
import { domainOf } from '../../../jid/index.ts';
import type { KeyLog } from '../../pubsub/index.ts';
import { isKeyNode, keyFingerprint } from '../../../transparency/key-events.ts';

export function keyLogFor(isLocalDomain: (domain: string) => boolean): KeyLog {
  return ({ type, service, node, itemId, payload, time }) => {
    // The domain's own service (its heads node) is not an account: nothing there is a key event.
    if (!service.includes('@') || !isKeyNode(node)) return undefined;
    const domain = domainOf(service);
    if (!isLocalDomain(domain)) return undefined;
    return { domain, event: type === 'publish' ? { type, time, jid: service, node, itemId, payload: payload ?? '' } : { type, time, jid: service, node, itemId, fingerprint: keyFingerprint(node, undefined) } };
  };
}
