// The urn:pepkeys:kt:0 IQs a domain answers (docs/transparency.md "Protocol"): the latest tree head, an
// inclusion proof, a consistency proof, a range of entries, and one JID's entries with inclusion proofs.
// Proofs are against a tree size the requester names (one of a signed head's), defaulting to the latest
// head's; a size beyond the latest signed head is refused, so every proof can be checked against a head.
import { x, type Element } from '../../../xml/index.ts';
import { StanzaError } from '../../../protocol/rfc6120.ts';
import { parseJid } from '../../../jid/index.ts';
import type { TransparencyStore } from '../../../storage/types.ts';
import { inclusionProof } from '../../../transparency/inclusion.ts';
import { consistencyProof } from '../../../transparency/consistency.ts';
import { b64, buildHashes, buildTreeHead, KT_MAX_ENTRIES, KtFormatError, NS_KT, uint } from '../../../transparency/protocol.ts';
import type { DomainHeads } from './heads.ts';

function attr(el: Element, name: string, fallback?: number): number {
  const v = el.attrs[name];
  if (v === undefined && fallback !== undefined) return fallback;
  try {
    return uint(v, name);
  } catch (err) {
    throw new StanzaError('bad-request', (err as KtFormatError).message);
  }
}

export async function answerKtIq(payload: Element, heads: DomainHeads, store: TransparencyStore): Promise<Element> {
  const domain = heads.domain;
  const signedSize = async () => (heads.latest ?? (await heads.issue())).size;
  /** A tree size proofs may be asked against: 1..latest signed size. */
  const treeSize = async (name: string) => {
    const latest = await signedSize();
    const size = attr(payload, name, latest);
    if (size > latest) throw new StanzaError('item-not-found', `no signed tree head of size ${size} yet (latest: ${latest})`);
    return size;
  };
  const read = (refs: Parameters<TransparencyStore['nodes']>[1]) => store.nodes(domain, refs);

  switch (payload.local) {
    case 'head': {
      const fresh = payload.attrs.fresh === 'true' || payload.attrs.fresh === '1';
      return buildTreeHead(fresh ? await heads.issue(true) : (heads.latest ?? (await heads.issue())));
    }
    case 'inclusion': {
      const size = await treeSize('size');
      const seq = attr(payload, 'seq');
      if (seq >= size) throw new StanzaError('item-not-found', `leaf ${seq} is not in the tree of size ${size}`);
      const [entry] = await store.entries(domain, seq, seq + 1);
      const proof = await inclusionProof(seq, size, read);
      return x('inclusion', { xmlns: NS_KT, seq: String(seq), size: String(size) }, x('leaf', {}, b64(entry!.leaf)), buildHashes(proof));
    }
    case 'consistency': {
      const second = await treeSize('second');
      const first = attr(payload, 'first');
      if (first > second) throw new StanzaError('bad-request', `first (${first}) is larger than second (${second})`);
      const proof = await consistencyProof(first, second, read);
      return x('consistency', { xmlns: NS_KT, first: String(first), second: String(second) }, buildHashes(proof));
    }
    case 'entries': {
      const size = await treeSize('size');
      const start = attr(payload, 'start', 0);
      const end = Math.min(attr(payload, 'end', size), size, start + KT_MAX_ENTRIES);
      const entries = start < end ? await store.entries(domain, start, end) : [];
      return x('entries', { xmlns: NS_KT, start: String(start), end: String(Math.max(start, end)), size: String(size) },
        entries.map((e) => x('entry', { seq: String(e.seq) }, b64(e.leaf))));
    }
    case 'entries-of': {
      const size = await treeSize('size');
      let jid: string;
      try {
        jid = parseJid(payload.attrs.jid ?? '').bare;
      } catch {
        throw new StanzaError('bad-request', 'jid must be a JID');
      }
      const from = attr(payload, 'from', 0);
      const max = Math.min(attr(payload, 'max', KT_MAX_ENTRIES), KT_MAX_ENTRIES);
      const entries = (await store.entriesOf(domain, jid, from, max)).filter((e) => e.seq < size);
      const out = [];
      for (const e of entries) out.push(x('entry', { seq: String(e.seq) }, x('leaf', {}, b64(e.leaf)), buildHashes(await inclusionProof(e.seq, size, read))));
      // 'complete': no entry of this JID at or after `from` below `size` was left out.
      const complete = entries.length < max;
      return x('entries-of', { xmlns: NS_KT, jid, size: String(size), from: String(from), complete: String(complete) }, out);
    }
    default:
      throw new StanzaError('feature-not-implemented', `<${payload.local}/> is not a ${NS_KT} request`);
  }
}
