// `key fetch JID`: a contact's keys (PEP, else directly from their clients) into the trust store; exit 5 when
// a key changed.
import { Command } from 'commander';
import { parseJid } from '../../../jid/index.ts';
import type { KeyCommandContext } from '../context.ts';
import { EXIT_TRUST } from '../exit-codes.ts';
import { TRUST_COLUMNS, attestationJson, changedSentence, fp, keyEventJson, revocationJson, trustRow } from '../presenter.ts';
import { action, addCommonOptions, addConnectOptions, addLongOption, type ConnectFlags } from '../session.ts';

export function fetchCommand(cx: KeyCommandContext): Command {
  return addLongOption(addConnectOptions(addCommonOptions(new Command('fetch').description("fetch a contact's keys (PEP, else directly from their clients) into your trust store").argument('<jid>', 'bare JID, or a full JID to ask one client directly'))))
    .action(action(async (jidArg: string, flags: ConnectFlags) => {
      const target = parseJid(jidArg);
      const result = await cx.withSession(flags, (s) => s.keys.fetch(target.full));
      if (result.pepProblem) cx.out.warn(`${result.pepProblem}; got the key directly from ${target.bare}'s client instead`);
      const changed = result.keys.filter((k) => k.result.kind === 'changed');
      for (const k of changed) cx.out.warn(changedSentence(k));
      for (const r of result.revocations) if (!r.outcome.ok) cx.out.warn(`ignored a revocation from ${r.jid}: ${r.outcome.message}`);
      if (flags.json) {
        cx.out.json({ jid: result.jid, source: result.source, keys: result.keys.map(keyEventJson), revocations: result.revocations.map(revocationJson), attestations: result.attestations.map(attestationJson) });
      } else {
        cx.out.table(result.keys.map((k) => ({ ...trustRow(k.result.record, flags), seen: k.result.kind, source: k.source })), [...TRUST_COLUMNS, 'seen', 'source']);
        for (const r of result.revocations) if (r.outcome.ok && r.record) cx.out.line(`revoked: ${fp(r.record.print)} (revocation checked)`);
      }
      if (changed.length) cx.exitCode = EXIT_TRUST;
    }));
}
