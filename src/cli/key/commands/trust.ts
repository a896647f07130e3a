// `key trust JID FINGERPRINT`: mark a contact's key verified after comparing it out of band.
import { Command } from 'commander';
import type { KeyCommandContext } from '../context.ts';
import { fp, trustJson } from '../presenter.ts';
import { action, addCommonOptions, type CommonFlags } from '../session.ts';

export function trustCommand(cx: KeyCommandContext): Command {
  return addCommonOptions(new Command('trust').description('mark a contact key as verified after comparing its fingerprint out of band').argument('<jid>', 'the contact').argument('<fingerprint>', 'their key'))
    .action(action(async (jidArg: string, fpArg: string, flags: CommonFlags) => {
      const after = await cx.withContactKey(flags, jidArg, fpArg, (trust, key, bare) => trust.verify(bare, key.print));
      if (flags.json) cx.out.json(trustJson(after));
      else cx.out.line(`verified ${after.jid}'s key ${fp(after.print)}`);
    }));
}
