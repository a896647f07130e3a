// `key forget JID FINGERPRINT`: remove a contact's key from the trust store (a key seen by mistake, a test
// account's key), as `gpg --delete-keys` does. The key comes back, unverified, if it is fetched again.
import { Command } from 'commander';
import type { KeyCommandContext } from '../context.ts';
import { fp } from '../presenter.ts';
import { action, addCommonOptions, type CommonFlags } from '../session.ts';

export function forgetCommand(cx: KeyCommandContext): Command {
  return addCommonOptions(new Command('forget').description("remove a contact's key from your trust store (it comes back unverified if fetched again)").argument('<jid>', 'the contact').argument('<fingerprint>', 'their key'))
    .action(action(async (jidArg: string, fpArg: string, flags: CommonFlags) => {
      const { bare, print } = await cx.withContactKey(flags, jidArg, fpArg, async (trust, key, bare) => (await trust.forget(bare, key.print), { bare, print: key.print }));
      if (flags.json) cx.out.json({ jid: bare, fingerprint: print, forgotten: true });
      else cx.out.line(`forgot ${bare}'s key ${fp(print)}`);
    }));
}
