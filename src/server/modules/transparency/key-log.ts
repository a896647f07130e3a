// Turns the pubsub engine's writes into key events (server/pubsub/engine.ts KeyLog): only key nodes
// (transparency/key-events.ts) of served domains' accounts. A publish's payload hash (SHA-256 of the payload
// exactly as stored and served) and fingerprint are derived by `derive` (the server's: on a worker thread,
// derive-worker.ts) while the write waits in its batch; without one, the store derives them itself.
import { domainOf } from '../../../jid/index.ts';
import type { KeyLog } from '../../pubsub/index.ts';
import type { LogAppend } from '../../../storage/types.ts';
import { isKeyNode, keyFingerprint } from '../../../transparency/key-events.ts';
import { DERIVATION, isUnderived, publishInput, type Derivation, type UnderivedPublish } from '../../../transparency/key-event-input.ts';

export function keyLogFor(isLocalDomain: (domain: string) => boolean, derive?: (event: UnderivedPublish) => Derivation): KeyLog {
  return ({ type, service, node, itemId, payload, parsed, time }) => {
    // The domain's own service (its heads node) is not an account: nothing there is a key event.
    if (!service.includes('@') || !isKeyNode(node)) return undefined;
    const domain = domainOf(service);
    if (!isLocalDomain(domain)) return undefined;
    if (type === 'publish') {
      const event = publishInput({ time, jid: service, node, itemId }, payload ?? '', parsed);
      const log: LogAppend = { domain, event };
      if (derive && isUnderived(event)) log[DERIVATION] = derive(event);
      return log;
    }
    // Only an OpenPGP key node's name carries a fingerprint here: nothing to parse.
    const fingerprint = keyFingerprint(node, undefined);
    return { domain, event: fingerprint === undefined ? { type, time, jid: service, node, itemId } : { type, time, jid: service, node, itemId, fingerprint } };
  };
}
