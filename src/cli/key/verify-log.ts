// `key fetch --verify-log`: every XEP-0189 key item the contact serves on PEP must be logged in their
// domain's key-transparency log as the newest event for that item, in a fresh head that is consistent with
// the one last verified for the domain (HOME/kt-heads.json, shared with `kt audit`).
import { join } from 'node:path';
import { FileKtHeadStore, IqError, KtClient, getItems } from '../../client/index.ts';
import { parseJid } from '../../jid/index.ts';
import { PUBKEY_NS } from '../../protocol/xep0189.ts';
import { KT_HEADS_FILE } from '../kt-paths.ts';
import type { Session } from './session.ts';

export interface LogCheck {
  domain: string;
  size: number;
  verified: { node: string; item: string; seq: number }[];
}

export async function verifyKeysInLog(s: Session, bare: string, timeoutMs: number): Promise<LogCheck> {
  const kt = new KtClient(s.client, new FileKtHeadStore(join(s.home.dir, KT_HEADS_FILE)), timeoutMs);
  const out: LogCheck = { domain: parseJid(bare).domain, size: 0, verified: [] };
  for (const node of Object.values(PUBKEY_NS)) {
    const items = await getItems(s.client, bare, node, timeoutMs).catch((e: unknown) => {
      // A node the contact does not have holds nothing to verify.
      if (e instanceof IqError && e.condition === 'item-not-found') return [];
      throw e;
    });
    for (const item of items) {
      if (!item.payload) continue;
      const { head, event } = await kt.verifyPublished(bare, node, item);
      out.size = head.size;
      out.verified.push({ node, item: event.itemId, seq: event.seq });
    }
  }
  return out;
}
