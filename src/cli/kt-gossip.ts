// `pepkeys kt gossip`: publishes the heads this home verified (HOME/kt-heads.json) to the account's gossip
// node, reads its contacts' gossiped heads, and shows any split view with its proof: both heads in full (size,
// root, time, log key, signature, as the XML anyone can verify) and who gossiped which (docs/transparency.md
// "Gossip"). Heads of different sizes are proven consistent by the domain, one pair per size step; heads signed
// by log keys a verified rotation chain links count as one log, a head signed by an unlinked key is reported.
import { Command } from 'commander';
import { join } from 'node:path';
import {
  FileKtHeadStore, KtClient, compareHeads, fetchGossip, getRoster, publishGossip, witnessed,
  type SplitView, type UnlinkedHead, type WitnessedHead,
} from '../client/index.ts';
import { parseJid } from '../jid/index.ts';
import { b64, buildTreeHead } from '../transparency/protocol.ts';
import { logKeyId, type SignedTreeHead } from '../transparency/tree-head.ts';
import { KT_HEADS_FILE } from './kt-paths.ts';
import type { KeyCommandContext } from './key/context.ts';
import { EXIT_TRUST } from './key/exit-codes.ts';
import { action, addCommonOptions, addConnectOptions, timeoutMs, type ConnectFlags } from './key/session.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const YOU = 'you';

interface GossipFlags extends ConnectFlags {
  with?: string[];
}

export function gossipCommand(cx: KeyCommandContext): Command {
  return addConnectOptions(addCommonOptions(new Command('gossip')
    .description("publish the tree heads you verified to your gossip node, compare them with your contacts' heads, and show any split view with its proof (exit 5)")))
    .option('--with <jid...>', 'compare with these contacts (default: every roster contact whose presence you see)')
    .action(action(async (flags: GossipFlags) => {
      const store = new FileKtHeadStore(join(cx.home(flags).dir, KT_HEADS_FILE));
      const r = await cx.withSession(flags, async (s) => {
        const t = timeoutMs(flags);
        const mine = await store.list();
        await publishGossip(s.client, mine);
        const contacts = flags.with?.map((j) => parseJid(j).bare)
          ?? (await getRoster(s.client)).filter((e) => e.subscription === 'to' || e.subscription === 'both').map((e) => e.jid);
        const seen: { head: SignedTreeHead; by: string }[] = mine.map((head) => ({ head, by: YOU }));
        const report: { jid: string; heads: number; error?: string }[] = [];
        const warnings: string[] = [];
        for (const jid of contacts) {
          try {
            const g = await fetchGossip(s.client, jid, t);
            for (const head of g.heads) seen.push({ head, by: jid });
            for (const why of g.invalid) warnings.push(`${jid} gossiped ${why}; ignored`);
            report.push({ jid, heads: g.heads.length });
          } catch (e) {
            report.push({ jid, heads: 0, error: (e as Error).message });
          }
        }
        const c = await compareHeads(new KtClient(s.client, store, t), witnessed(seen), async (d) => (await store.get(d))?.key);
        warnings.push(...c.warnings);
        return { published: mine.length, report, splits: c.splits, unlinked: c.unlinked, warnings };
      });
      const proofs = r.splits.map(splitJson);
      const bad = r.splits.length + r.unlinked.length;
      if (flags.json) {
        cx.out.json({ ok: bad === 0, published: r.published, contacts: r.report, splitViews: proofs, unlinkedHeads: r.unlinked.map(unlinkedJson), warnings: r.warnings });
      } else {
        cx.out.line(`Published ${r.published} tree head${r.published === 1 ? '' : 's'} to your gossip node.`);
        for (const c of r.report) cx.out.line(c.error ? `${c.jid}: no gossip (${c.error})` : `${c.jid}: ${c.heads} head${c.heads === 1 ? '' : 's'}`);
        for (const w of r.warnings) cx.out.warn(w);
        for (const p of r.splits) for (const l of splitLines(p)) cx.out.line(l);
        for (const u of r.unlinked) for (const l of unlinkedLines(u)) cx.out.line(l);
        if (!bad) cx.out.line('No split view: every head of each domain is consistent with the others.');
      }
      if (bad) cx.exitCode = EXIT_TRUST;
    }));
}

function headJson(w: WitnessedHead) {
  const h = w.head;
  return {
    by: w.by, domain: h.domain, size: h.size, time: new Date(h.time).toISOString(), root: hex(h.root), logKey: logKeyId(h.key),
    key: b64(h.key), signature: b64(h.signature), xml: buildTreeHead(h).toString(),
  };
}

function splitJson(p: SplitView) {
  return { domain: p.domain, kind: p.kind, sameKey: p.sameKey, rotated: !!p.rotated, ...(p.detail ? { detail: p.detail } : {}), heads: p.heads.map(headJson) };
}

function splitLines(p: SplitView): string[] {
  const [a, b] = p.heads;
  const what = p.kind === 'same-size'
    ? `two heads of size ${a.head.size} with different roots`
    : `a head of size ${b.head.size} that is not an extension of the head of size ${a.head.size}`;
  const verdict = p.sameKey
    ? `Both are signed by ${p.domain}'s log key ${logKeyId(a.head.key)}: proof that ${p.domain} showed different logs to different people.`
    : p.rotated
      ? `They are signed by log keys ${logKeyId(a.head.key)} and ${logKeyId(b.head.key)}, which ${p.domain}'s signed rotation statements link: proof that ${p.domain} showed different logs to different people.`
      : `They are signed by different log keys (${logKeyId(a.head.key)}, ${logKeyId(b.head.key)}): a key rotation, or someone impersonating ${p.domain} towards one side.`;
  const head = (w: WitnessedHead) => [
    `  gossiped by ${w.by.join(', ')}: size ${w.head.size}, root ${hex(w.head.root)}, time ${new Date(w.head.time).toISOString()}, signature ${b64(w.head.signature)}`,
    `    ${buildTreeHead(w.head).toString()}`,
  ];
  return [`SPLIT VIEW of ${p.domain}: ${what}.`, ...head(a), ...head(b), `  ${verdict}`, ...(p.detail ? [`  ${p.detail}`] : [])];
}

function unlinkedJson(u: UnlinkedHead) {
  return { domain: u.domain, code: u.code, reference: logKeyId(u.reference), head: headJson(u.head) };
}

function unlinkedLines(u: UnlinkedHead): string[] {
  const h = u.head.head;
  return [
    `UNLINKED KEY for ${u.domain} [${u.code}]: a head of size ${h.size} signed by log key ${logKeyId(h.key)}, which no rotation statement of ${u.domain} links to its key ${logKeyId(u.reference)}: someone other than ${u.domain}'s log signed it, or ${u.domain} replaced its key without a statement.`,
    `  gossiped by ${u.head.by.join(', ')}: size ${h.size}, root ${hex(h.root)}, time ${new Date(h.time).toISOString()}, signature ${b64(h.signature)}`,
    `    ${buildTreeHead(h).toString()}`,
  ];
}
