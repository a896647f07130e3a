// `key revoke FINGERPRINT`: sign a <revoke/> for one of our keys and publish it to our revoke node.
import { Command } from 'commander';
import { createRevocation, signerFromPubkey } from '../../../keys/index.ts';
import type { KeyCommandContext } from '../context.ts';
import { matchFingerprint } from '../fingerprint-arg.ts';
import { describeAccess, fp, ownKeyJson } from '../presenter.ts';
import { addPublishOptions, publishOptions, publishSettings, type PublishFlags } from '../publish-settings.ts';
import { addPassphraseOption } from '../passphrase.ts';
import { action, addCommonOptions, addConnectOptions } from '../session.ts';

export function revokeCommand(cx: KeyCommandContext): Command {
  return addPassphraseOption(addPublishOptions(addConnectOptions(addCommonOptions(new Command('revoke').description('revoke one of your keys: sign a <revoke/> and publish it to your revoke node').argument('<fingerprint>', 'the key to revoke (see `key list`)')))))
    .option('--signer <fingerprint>', 'sign with this key of yours instead of the revoked key itself')
    .action(action(async (fpArg: string, flags: PublishFlags & { signer?: string }) => {
      const jid = cx.account(flags);
      const home = cx.home(flags);
      const own = await home.keys(jid.bare);
      const target = matchFingerprint(fpArg, own, (k) => k.id, 'key of yours');
      const signerKey = flags.signer ? matchFingerprint(flags.signer, own, (k) => k.id, 'key of yours') : target;
      const signer = signerFromPubkey(signerKey.pubkey, await home.privateKey(jid.bare, signerKey.id));
      const rev = await createRevocation({ revoked: target.pubkey, signer });
      const state = await home.state(jid.bare);
      const settings = publishSettings(flags, state.publish);
      await cx.withSession(flags, async (s) => {
        await s.keys.publishRevocation(rev, publishOptions(settings, flags));
      });
      await home.markRevoked(jid.bare, target.id);
      if (flags.json) cx.out.json({ revoked: ownKeyJson({ ...target, revoked: true, current: false }), signer: fp(signerKey.id), revocationtime: rev.revocationtime });
      else cx.out.line(`revoked key ${fp(target.id)} of ${jid.bare} (signed by ${signerKey.id === target.id ? 'the key itself' : fp(signerKey.id)}, published ${describeAccess(settings)})`);
      if (target.current) cx.out.warn('that was your current key; generate and publish a new one');
    }));
}
