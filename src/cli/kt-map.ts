// `pepkeys kt lookup JID NODE [--history]`: asks JID's domain for the verifiable-map lookup of (JID, node) and
// verifies it (docs/transparency.md "What a lookup proves"): the map head's signature (with the log key pinned
// by `kt head`/`kt audit`, or by this first lookup), VRF labels against the domain's VRF key (pinned on first
// use), commitments, the log leaf's inclusion, membership of the latest version and non-membership of the next;
// then the map head against the domain's record in kt-heads.json (client/kt-map-client.ts): append-only from
// the last map head verified, no split view, no rollback, consistent with the last tree head.
import { Command } from 'commander';
import { join } from 'node:path';
import { parseJid } from '../jid/index.ts';
import { FileKtHeadStore, KtMapClient, KtVerifyError } from '../client/index.ts';
import { KtMapVerifyError } from '../client/kt-map.ts';
import { decodeLeaf } from '../transparency/leaf.ts';
import { CliError } from './errors.ts';
import { KT_HEADS_FILE } from './kt-paths.ts';
import type { KeyCommandContext } from './key/context.ts';
import { EXIT_TRUST } from './key/exit-codes.ts';
import { action, addCommonOptions, addConnectOptions, timeoutMs, type ConnectFlags } from './key/session.ts';

/** Where VRF keys were pinned before they moved into kt-heads.json (read once, then removed). */
export { LEGACY_VRF_KEYS_FILE as KT_VRF_KEYS_FILE } from '../client/index.ts';
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export function lookupCommand(cx: KeyCommandContext): Command {
  return addConnectOptions(addCommonOptions(new Command('lookup')
    .description("look (JID, NODE) up in its domain's verifiable map and verify the proof: its latest key event and that no newer one exists")
    .argument('<jid>', 'e.g. juliet@capulet.lit')
    .argument('<node>', 'e.g. urn:xmpp:pubkey:2')
    .option('--history', 'every version, not only the latest')))
    .action(action(async (jidArg: string, node: string, flags: ConnectFlags & { history?: boolean }) => {
      const jid = parseJid(jidArg).bare;
      const domain = parseJid(jid).domain;
      const history = flags.history === true;
      const dir = cx.home(flags).dir;
      await cx.withSession(flags, async (s) => {
        const map = new KtMapClient(s.client, new FileKtHeadStore(join(dir, KT_HEADS_FILE)), timeoutMs(flags));
        try {
          const v = await map.lookup(jid, node, history);
          const versions = v.versions.map((e) => {
            const ev = decodeLeaf(e.leaf);
            return { version: e.version, seq: e.seq, type: ev.type, itemId: ev.itemId, time: new Date(ev.time).toISOString(), fingerprint: ev.fingerprint ?? null };
          });
          const out = {
            ok: true, jid, node, epoch: v.head.epoch, logSize: v.head.logSize, mapRoot: hex(v.head.root), latest: v.latest, versions, vrfKeyPinnedNow: v.vrfKeyPinnedNow,
            previousEpoch: v.previous?.epoch ?? null, inserted: v.inserted,
          };
          if (flags.json) return cx.out.json(out);
          cx.out.line(v.latest === 0
            ? `${jid} has no key event on ${node} in the map of ${domain} (epoch ${out.epoch}): proven absent.`
            : `${jid} ${node}: version ${v.latest} is the latest in the map of ${domain} (epoch ${out.epoch}, log size ${out.logSize}): proven.`);
          for (const e of versions) cx.out.line(`  v${e.version}: ${e.type} of item ${e.itemId} at ${e.time} (log entry ${e.seq})${e.fingerprint ? `, fingerprint ${e.fingerprint}` : ''}`);
          if (v.previous && v.previous.epoch < v.head.epoch) cx.out.line(`The map grew append-only from epoch ${v.previous.epoch} (verified before) to epoch ${v.head.epoch}: ${v.inserted} new entries, proven.`);
          if (out.vrfKeyPinnedNow) cx.out.line(`First lookup at ${domain}: its VRF key ${hex(v.vrfKey)} is now pinned.`);
        } catch (e) {
          if (e instanceof KtVerifyError) throw new CliError(`the tree head of ${domain} failed verification [${e.code}]: ${e.message}`, EXIT_TRUST);
          if (!(e instanceof KtMapVerifyError)) throw e;
          if (flags.json) cx.out.json({ ok: false, jid, node, code: e.code, error: e.message, proof: e.proof });
          throw new CliError(`the lookup of ${jid} ${node} failed verification (${e.code}): ${e.message}`, EXIT_TRUST);
        }
      });
    }));
}
