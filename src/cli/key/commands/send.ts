// `key send JID`: our current key in a <message/> (XEP-0189 §8), without PEP.
import { Command } from 'commander';
import { parseJid } from '../../../jid/index.ts';
import { CliError } from '../../errors.ts';
import type { KeyCommandContext } from '../context.ts';
import { EXIT_NOT_FOUND } from '../exit-codes.ts';
import { fp, ownKeyJson } from '../presenter.ts';
import { action, addCommonOptions, addConnectOptions, type ConnectFlags } from '../session.ts';

export function sendCommand(cx: KeyCommandContext): Command {
  return addConnectOptions(addCommonOptions(new Command('send').description('send your current key to JID in a <message/> (XEP-0189 §8), without PEP').argument('<jid>', 'bare or full JID')))
    .action(action(async (jidArg: string, flags: ConnectFlags) => {
      const me = cx.account(flags);
      const to = parseJid(jidArg);
      const current = await cx.home(flags).current(me.bare);
      if (!current) throw new CliError(`no current key for ${me.bare}; run \`pepkeys key generate\` first`, EXIT_NOT_FOUND);
      await cx.withSession(flags, async (s) => s.keys.sendKey(to.full, current.pubkey, `public key of ${me.bare}: ${fp(current.id)}`));
      if (flags.json) cx.out.json({ sent: ownKeyJson(current), to: to.full });
      else cx.out.line(`sent key ${fp(current.id)} to ${to.full}`);
    }));
}
