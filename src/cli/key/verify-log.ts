// `--verify-log` of `key fetch` and `key watch`: every XEP-0189 key the session receives must be logged in its
// domain's key-transparency log as the newest event for its PEP item, in a fresh head consistent with the one
// last verified for the domain (HOME/kt-heads.json, shared with `kt audit`); a key that is not is refused
// before it reaches the trust store (src/client/kt-admission.ts).
import { join } from 'node:path';
import { FileKtHeadStore, KtClient, ktKeyAdmission, type KeyAdmission, type LogVerified, type XmppClient } from '../../client/index.ts';
import { KT_HEADS_FILE } from '../kt-paths.ts';

export interface LogCheck {
  /** Every key the log backed in this session, in order. */
  verified: LogVerified[];
  admit: KeyAdmission;
}

export function logCheck(client: XmppClient, homeDir: string, timeoutMs: number): LogCheck {
  const verified: LogVerified[] = [];
  const kt = new KtClient(client, new FileKtHeadStore(join(homeDir, KT_HEADS_FILE)), timeoutMs);
  return { verified, admit: ktKeyAdmission(kt, (v) => verified.push(v)) };
}
