// `key trust JID FINGERPRINT`: mark a contact's key verified after comparing it out of band.
import { Command } from 'commander';
import { parseJid } from '../../../jid/index.ts';
import type { KeyCommandContext } from '../context.ts';
import { matchFingerprint } from '../fingerprint-arg.ts';
import { fp, trustJson } from '../presenter.ts';
import { action, addCommonOptions, type CommonFlags } from '../session.ts';

export function trustCommand(cx: KeyCommandContext): Command {
  return addCommonOptions(new Command('trust').description('mark a contact key as verified after comparing its fingerprint out of band').argument('<jid>', 'the contact').argument('<fingerprint>', 'their key'))
    .action(action(async (jidArg: string, fpArg: string, flags: CommonFlags) => {
      const bare = parseJid(jidArg).bare;
      const trust = await cx.home(flags).openTrust();
      try {
        const v = matchFingerprint(fpArg, await trust.keys(bare), (r) => r.print, `key of ${bare}`);
        const after = await trust.verify(bare, v.print);
        if (flags.json) cx.out.json(trustJson(after));
        else cx.out.line(`verified ${bare}'s key ${fp(after.print)}`);
      } finally {
        await trust.close();
      }
    }));
}
