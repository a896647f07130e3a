// The transparency check as a KeyAdmission (src/client/key-ingest.ts): a key, a revocation or an attestation
// reaches the trust store only when its PEP item is the newest event for it in its domain's log, in a fresh head proven consistent with the
// one last verified for the domain (KtClient.verifyPublished). One received directly or in a message is not
// a PEP item, so no log entry can back it: refused too. Checks run one at a time, so concurrent notifications
// never store heads out of order.
import { parseJid } from '../jid/index.ts';
import type { KeyAdmission } from './key-ingest.ts';
import { KtVerifyError } from './kt-errors.ts';
import type { KtClient } from './transparency.ts';

export interface LogVerified {
  jid: string;
  domain: string;
  node: string;
  item: string;
  /** The leaf that logs the publish, and the size of the head it was proven in. */
  seq: number;
  size: number;
}

export function ktKeyAdmission(kt: KtClient, onVerified?: (v: LogVerified) => void): KeyAdmission {
  let queue: Promise<unknown> = Promise.resolve();
  return ({ jid, source, origin, kind = 'key' }) => {
    const run = queue.then(async () => {
      const domain = parseJid(jid).domain;
      if (!origin) {
        throw new KtVerifyError('not-logged', `the ${kind} of ${jid} came ${source === 'direct' ? 'directly from one of their clients' : 'in a message'}, not from PEP, so no entry of the log of ${domain} can back it`, domain);
      }
      const { head, event } = await kt.verifyPublished(jid, origin.node, origin.item);
      onVerified?.({ jid: parseJid(jid).bare, domain, node: origin.node, item: event.itemId, seq: event.seq, size: head.size });
    });
    queue = run.catch(() => undefined);
    return run;
  };
}
