// `key list [JID]`: our own keys, or a contact's keys in the trust store (XEP-0189, OMEMO devices and OX keys).
import { Command } from 'commander';
import { parseJid } from '../../../jid/index.ts';
import type { KeyCommandContext } from '../context.ts';
import { OWN_COLUMNS, ownKeyJson, ownKeyRow, trustColumns, trustJson, trustRow } from '../presenter.ts';
import { action, addCommonOptions, addJidOption, addLongOption, type CommonFlags } from '../session.ts';

export function listCommand(cx: KeyCommandContext): Command {
  return addLongOption(addJidOption(addCommonOptions(new Command('list').description('list your own keys, or the keys of JID in your trust store').argument('[jid]', 'a contact'))))
    .action(action(async (jidArg: string | undefined, flags: CommonFlags & { jid?: string }) => {
      const home = cx.home(flags);
      if (jidArg === undefined) {
        const own = await home.keys((await cx.ownAccount(flags)).bare);
        if (flags.json) cx.out.json(own.map(ownKeyJson));
        else if (own.length) cx.out.table(own.map((k) => ownKeyRow(k, flags)), OWN_COLUMNS);
        else cx.out.info(`no keys yet in ${home.dir}; run \`pepkeys key generate\``);
        return;
      }
      const bare = parseJid(jidArg).bare;
      const trust = await home.openTrust();
      try {
        const views = await trust.keys(bare);
        if (flags.json) cx.out.json(views.map(trustJson));
        else if (views.length) cx.out.table(views.map((v) => trustRow(v, flags)), trustColumns(views));
        else cx.out.info(`no keys of ${bare} in your trust store; run \`pepkeys key fetch ${bare}\``);
      } finally {
        await trust.close();
      }
    }));
}
