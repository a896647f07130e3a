// `key publish`: the current key to our PEP node (item "current") with the XEP-0222 options.
import { Command } from 'commander';
import { CliError } from '../../errors.ts';
import type { KeyCommandContext } from '../context.ts';
import { EXIT_NOT_FOUND } from '../exit-codes.ts';
import { describeAccess, fp, ownKeyJson } from '../presenter.ts';
import { addPublishOptions, publishOptions, publishSettings, type PublishFlags } from '../publish-settings.ts';
import { action, addCommonOptions, addConnectOptions } from '../session.ts';

export function publishCommand(cx: KeyCommandContext): Command {
  return addPublishOptions(addConnectOptions(addCommonOptions(new Command('publish').description('publish your current key to your PEP node (item "current") with XEP-0222 options'))))
    .action(action(async (flags: PublishFlags) => {
      const jid = cx.account(flags);
      const home = cx.home(flags);
      const current = await home.current(jid.bare);
      if (!current) throw new CliError(`no current key for ${jid.bare} in ${home.dir}; run \`pepkeys key generate\` first`, EXIT_NOT_FOUND);
      const state = await home.state(jid.bare);
      const settings = publishSettings(flags, state.publish);
      await cx.withSession(flags, async (s) => {
        await s.keys.publishKey(current.pubkey, publishOptions(settings, flags));
        state.publish = settings;
        await home.saveState(jid.bare, state);
      });
      if (flags.json) cx.out.json({ published: ownKeyJson(current), node: current.pubkey.version === 2 ? 'urn:xmpp:pubkey:2' : 'urn:xmpp:pubkey:1', item: 'current', access: settings });
      else cx.out.line(`published key ${fp(current.id)} for ${jid.bare} (${describeAccess(settings)})`);
    }));
}
