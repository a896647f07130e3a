// Turns the pubsub engine's writes into key-event leaves (server/pubsub/engine.ts KeyLog): only key nodes
// (transparency/key-events.ts) of served domains' accounts; the payload hash is SHA-256 of the payload
// exactly as stored and served, the fingerprint read from the payload when it names a key.
import { Element, parseXml } from '../../../xml/index.ts';
import { domainOf } from '../../../jid/index.ts';
import type { KeyLog } from '../../pubsub/index.ts';
import { sha256 } from '../../../transparency/hash.ts';
import { isKeyNode, keyFingerprint } from '../../../transparency/key-events.ts';

export function keyLogFor(isLocalDomain: (domain: string) => boolean): KeyLog {
  return ({ type, service, node, itemId, payload, parsed, time }) => {
    // The domain's own service (its heads node) is not an account: nothing there is a key event.
    if (!service.includes('@') || !isKeyNode(node)) return undefined;
    const domain = domainOf(service);
    if (!isLocalDomain(domain)) return undefined;
    let payloadHash: Uint8Array | undefined;
    let fingerprint: string | undefined;
    if (type === 'publish') {
      payloadHash = sha256(Buffer.from(payload ?? '', 'utf8'));
      if (payload) {
        try {
          // The publish hands over the element it parsed `payload` from: no second parse.
          fingerprint = keyFingerprint(node, parsed instanceof Element ? parsed : parseXml(payload));
        } catch {
          fingerprint = undefined;
        }
      }
    } else {
      fingerprint = keyFingerprint(node, undefined);
    }
    return { domain, event: { type, time, jid: service, node, itemId, payloadHash, fingerprint } };
  };
}
