// `pepkeys kt lookup JID NODE [--history]`: asks JID's domain for the verifiable-map lookup of (JID, node) and
// verifies it (docs/transparency.md "What a lookup proves"): the map head's signature (with the log key pinned
// by `kt head`/`kt audit`, when there is one), VRF labels against the domain's VRF key (pinned here on first
// use, in kt-vrf-keys.json), commitments, the log leaf's inclusion, membership of the latest version and
// non-membership of the next.
import { Command } from 'commander';
import { join } from 'node:path';
import { x } from '../xml/index.ts';
import { parseJid } from '../jid/index.ts';
import { FileKtHeadStore } from '../client/index.ts';
import { KtMapVerifyError, verifyMapLookup } from '../client/kt-map.ts';
import { decodeLeaf } from '../transparency/leaf.ts';
import { NS_KT } from '../transparency/protocol.ts';
import { CliError } from './errors.ts';
import { KT_HEADS_FILE } from './kt-paths.ts';
import type { KeyCommandContext } from './key/context.ts';
import { EXIT_TRUST } from './key/exit-codes.ts';
import { action, addCommonOptions, addConnectOptions, timeoutMs, type ConnectFlags } from './key/session.ts';

import { vrfPin } from './kt-vrf-pin.ts';

export { KT_VRF_KEYS_FILE } from './kt-vrf-pin.ts';
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
        const ask = (payload: ReturnType<typeof x>) => s.client.iq(x('iq', { type: 'get', to: domain }, payload), timeoutMs(flags));
        const pin = await vrfPin(ask, dir, domain);
        const { vrfKey, served } = pin;
        if (pin.changed) throw new CliError(`${domain} now serves another VRF key than the one pinned in ${pin.file}: its labels can no longer be checked`, EXIT_TRUST);
        const logKey = (await new FileKtHeadStore(join(dir, KT_HEADS_FILE)).get(domain))?.key;
        const answer = (await ask(x('map-lookup', { xmlns: NS_KT, jid, node, history: String(history) }))).getChild('map-lookup', NS_KT);
        try {
          if (!answer) throw new KtMapVerifyError('bad-answer', 'no <map-lookup/> in the answer');
          const v = verifyMapLookup(answer, { domain, vrfKey, logKey }, jid, node, history);
          pin.pin();
          const versions = v.versions.map((e) => {
            const ev = decodeLeaf(e.leaf);
            return { version: e.version, seq: e.seq, type: ev.type, itemId: ev.itemId, time: new Date(ev.time).toISOString(), fingerprint: ev.fingerprint ?? null };
          });
          const out = { ok: true, jid, node, epoch: v.head.epoch, logSize: v.head.logSize, mapRoot: hex(v.head.root), latest: v.latest, versions, logKeyPinned: logKey !== undefined, vrfKeyPinnedNow: pin.firstUse };
          if (flags.json) return cx.out.json(out);
          cx.out.line(v.latest === 0
            ? `${jid} has no key event on ${node} in the map of ${domain} (epoch ${out.epoch}): proven absent.`
            : `${jid} ${node}: version ${v.latest} is the latest in the map of ${domain} (epoch ${out.epoch}, log size ${out.logSize}): proven.`);
          for (const e of versions) cx.out.line(`  v${e.version}: ${e.type} of item ${e.itemId} at ${e.time} (log entry ${e.seq})${e.fingerprint ? `, fingerprint ${e.fingerprint}` : ''}`);
          if (!logKey) cx.out.line(`The map head's log key is not pinned yet: run \`pepkeys kt head ${domain}\` to pin it.`);
          if (out.vrfKeyPinnedNow) cx.out.line(`First lookup at ${domain}: its VRF key ${hex(served)} is now pinned.`);
        } catch (e) {
          if (!(e instanceof KtMapVerifyError)) throw e;
          if (flags.json) cx.out.json({ ok: false, jid, node, code: e.code, error: e.message });
          throw new CliError(`the lookup of ${jid} ${node} failed verification: ${e.message}`, EXIT_TRUST);
        }
      });
    }));
}
