// `pepkeys kt gossip`: publishes the heads this home verified (HOME/kt-heads.json) to the account's gossip
// node, reads its contacts' gossiped heads, and shows any split view with its proof: both heads in full (size,
// root, time, log key, signature, as the XML anyone can verify) and who gossiped which (docs/transparency.md
// "Gossip"). Heads of different sizes are proven consistent by the domain, one pair per size step; heads signed
// by log keys a verified rotation chain links count as one log, a head signed by an unlinked key is reported.
// The last map head verified per domain (Stage 2) is gossiped too: two of one epoch that differ, or one whose
// log root is not a tree head's root at its log size, are shown like a split view of tree heads; map heads are
// judged by the same rotation statements (asked once per domain), a map head of an unlinked key reported apart.
import { Command } from 'commander';
import { join } from 'node:path';
import {
  FileKtHeadStore, KtClient, compareHeads, fetchGossip, getRoster, publishGossip, witnessed, witnessedMapHeads, compareMapHeads, KtMapClient, keyLinks,
  type SplitView, type UnlinkedHead, type WitnessedHead, type WitnessedMapHead, type MapSplitView, type UnlinkedMapHead,
} from '../client/index.ts';
import { buildMapHead } from '../transparency/map-protocol.ts';
import type { SignedMapHead } from '../transparency/map-head.ts';
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
        const myMaps = await store.listMapHeads();
        await publishGossip(s.client, mine, myMaps);
        const contacts = flags.with?.map((j) => parseJid(j).bare)
          ?? (await getRoster(s.client)).filter((e) => e.subscription === 'to' || e.subscription === 'both').map((e) => e.jid);
        const seen: { head: SignedTreeHead; by: string }[] = mine.map((head) => ({ head, by: YOU }));
        const seenMaps: { head: SignedMapHead; by: string }[] = myMaps.map((head) => ({ head, by: YOU }));
        // `mapHeads` only when there are some: the JSON stays as it was for contacts gossiping tree heads only.
        const report: { jid: string; heads: number; mapHeads?: number; error?: string }[] = [];
        const warnings: string[] = [];
        for (const jid of contacts) {
          try {
            const g = await fetchGossip(s.client, jid, t);
            for (const head of g.heads) seen.push({ head, by: jid });
            for (const head of g.mapHeads) seenMaps.push({ head, by: jid });
            for (const why of g.invalid) warnings.push(`${jid} gossiped ${why}; ignored`);
            report.push({ jid, heads: g.heads.length, ...(g.mapHeads.length ? { mapHeads: g.mapHeads.length } : {}) });
          } catch (e) {
            report.push({ jid, heads: 0, error: (e as Error).message });
          }
        }
        const trees = witnessed(seen);
        const kt = new KtClient(s.client, store, t);
        const pinned = async (d: string) => (await store.get(d))?.key;
        const links = keyLinks(kt, pinned);
        const c = await compareHeads(kt, trees, pinned, links);
        warnings.push(...c.warnings);
        const m = await compareMapHeads(new KtMapClient(s.client, store, t), witnessedMapHeads(seenMaps), trees, links);
        warnings.push(...m.warnings);
        return {
          published: mine.length, publishedMaps: myMaps.length, report, splits: c.splits, unlinked: c.unlinked, mapSplits: m.splits, unlinkedMaps: m.unlinked, warnings,
        };
      });
      const proofs = r.splits.map(splitJson);
      const bad = r.splits.length + r.unlinked.length + r.mapSplits.length + r.unlinkedMaps.length;
      if (flags.json) {
        cx.out.json({
          ok: bad === 0, published: r.published, publishedMapHeads: r.publishedMaps, contacts: r.report, splitViews: proofs, unlinkedHeads: r.unlinked.map(unlinkedJson),
          mapSplitViews: r.mapSplits.map(mapSplitJson), unlinkedMapHeads: r.unlinkedMaps.map(unlinkedMapJson), warnings: r.warnings,
        });
      } else {
        const maps = r.publishedMaps ? ` and ${r.publishedMaps} map head${r.publishedMaps === 1 ? '' : 's'}` : '';
        cx.out.line(`Published ${r.published} tree head${r.published === 1 ? '' : 's'}${maps} to your gossip node.`);
        const mapsOf = (n = 0) => (n ? `, ${n} map head${n === 1 ? '' : 's'}` : '');
        for (const c of r.report) cx.out.line(c.error ? `${c.jid}: no gossip (${c.error})` : `${c.jid}: ${c.heads} head${c.heads === 1 ? '' : 's'}${mapsOf(c.mapHeads)}`);
        for (const w of r.warnings) cx.out.warn(w);
        for (const p of r.splits) for (const l of splitLines(p)) cx.out.line(l);
        for (const u of r.unlinked) for (const l of unlinkedLines(u)) cx.out.line(l);
        for (const m of r.mapSplits) for (const l of mapSplitLines(m)) cx.out.line(l);
        for (const u of r.unlinkedMaps) for (const l of unlinkedMapLines(u)) cx.out.line(l);
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

function mapHeadJson(w: WitnessedMapHead) {
  const h = w.head;
  return {
    by: w.by, domain: h.domain, epoch: h.epoch, logSize: h.logSize, logRoot: hex(h.logRoot), root: hex(h.root), time: new Date(h.time).toISOString(),
    logKey: logKeyId(h.key), key: b64(h.key), signature: b64(h.signature), xml: buildMapHead(h).toString(),
  };
}

function mapSplitJson(p: MapSplitView) {
  const detail = 'detail' in p ? { detail: p.detail } : {};
  const keys = { sameKey: p.sameKey, rotated: !!p.rotated };
  return 'heads' in p
    ? { domain: p.domain, kind: p.kind, ...keys, ...detail, mapHeads: p.heads.map(mapHeadJson) }
    : { domain: p.domain, kind: p.kind, ...keys, ...detail, mapHeads: [mapHeadJson(p.mapHead)], treeHead: headJson(p.treeHead) };
}

function unlinkedMapJson(u: UnlinkedMapHead) {
  return { domain: u.domain, code: u.code, reference: logKeyId(u.reference), mapHead: mapHeadJson(u.mapHead) };
}

function mapHeadLines(w: WitnessedMapHead): string[] {
  return [
    `  gossiped by ${w.by.join(', ')}: map epoch ${w.head.epoch}, log size ${w.head.logSize}, log root ${hex(w.head.logRoot)}, map root ${hex(w.head.root)}, time ${new Date(w.head.time).toISOString()}`,
    `    ${buildMapHead(w.head).toString()}`,
  ];
}

function unlinkedMapLines(u: UnlinkedMapHead): string[] {
  const h = u.mapHead.head;
  return [
    `UNLINKED KEY for ${u.domain}'s map [${u.code}]: a map head of epoch ${h.epoch} signed by log key ${logKeyId(h.key)}, which no rotation statement of ${u.domain} links to its key ${logKeyId(u.reference)}: someone other than ${u.domain}'s log signed it, or ${u.domain} replaced its key without a statement.`,
    ...mapHeadLines(u.mapHead),
  ];
}

function mapSplitLines(p: MapSplitView): string[] {
  const signed = (a: Uint8Array, b: Uint8Array) => (p.sameKey
    ? `Both are signed by ${p.domain}'s log key ${logKeyId(a)}: proof that ${p.domain} showed different maps to different people.`
    : p.rotated
      ? `They are signed by log keys ${logKeyId(a)} and ${logKeyId(b)}, which ${p.domain}'s signed rotation statements link: proof that ${p.domain} showed different maps to different people.`
      : `They are signed by different log keys (${logKeyId(a)}, ${logKeyId(b)}): a key rotation, or someone impersonating ${p.domain} towards one side.`);
  const detail = 'detail' in p ? [`  ${p.detail}`] : [];
  if ('heads' in p) {
    const [a, b] = p.heads;
    const what = p.kind === 'same-epoch'
      ? `two map heads of epoch ${a.head.epoch} with different content`
      : `a map head of epoch ${b.head.epoch} that ${p.domain} cannot prove extends the map head of epoch ${a.head.epoch}`;
    return [`SPLIT VIEW of ${p.domain}'s map: ${what}.`, ...mapHeadLines(a), ...mapHeadLines(b), `  ${signed(a.head.key, b.head.key)}`, ...detail];
  }
  const t = p.treeHead;
  const what = p.kind === 'log-root'
    ? `a map head built from a log of ${p.mapHead.head.logSize} entries whose root is not the root of the tree head of that size`
    : `a map head built from a log of ${p.mapHead.head.logSize} entries that ${p.domain} cannot prove consistent with the tree head of size ${t.head.size}`;
  return [
    `SPLIT VIEW of ${p.domain}'s map: ${what}.`,
    ...mapHeadLines(p.mapHead),
    `  gossiped by ${t.by.join(', ')}: tree head of size ${t.head.size}, root ${hex(t.head.root)}, time ${new Date(t.head.time).toISOString()}`,
    `    ${buildTreeHead(t.head).toString()}`,
    `  ${signed(p.mapHead.head.key, t.head.key)}`,
    ...detail,
  ];
}
