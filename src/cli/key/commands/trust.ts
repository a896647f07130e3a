// `key trust JID FINGERPRINT`: mark a contact's key verified after comparing it out of band. The key may be an
// XEP-0189 key, an OMEMO device's identity key or an OX key; FINGERPRINT may be written as their clients print it.
import { Command } from 'commander';
import type { KeyCommandContext } from '../context.ts';
import { clientFingerprint, fp, trustJson, trustKind } from '../presenter.ts';
import { keyFamily } from '../../../keys/index.ts';
import { action, addCommonOptions, type CommonFlags } from '../session.ts';

export function trustCommand(cx: KeyCommandContext): Command {
  return addCommonOptions(new Command('trust').description('mark a contact key as verified after comparing its fingerprint out of band').argument('<jid>', 'the contact').argument('<fingerprint>', 'their key'))
    .action(action(async (jidArg: string, fpArg: string, flags: CommonFlags) => {
      const after = await cx.withContactKey(flags, jidArg, fpArg, (trust, key, bare) => trust.verify(bare, key.print));
      if (flags.json) cx.out.json(trustJson(after));
      else cx.out.line(keyFamily(after.format) === 'xep0189' ? `verified ${after.jid}'s key ${fp(after.print)}` : `verified ${after.jid}'s ${trustKind(after)} ${clientFingerprint(after)}`);
    }));
}
