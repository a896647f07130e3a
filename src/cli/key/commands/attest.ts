// `key attest JID FINGERPRINT`: sign a contact's key with our current key, publish the attestation and send it
// to them.
import { Command } from 'commander';
import { parseJid } from '../../../jid/index.ts';
import { createAttestation, signerFromPubkey, buildAttestation, parsePubkey } from '../../../keys/index.ts';
import { parseXml } from '../../../xml/index.ts';
import { CliError } from '../../errors.ts';
import type { KeyCommandContext } from '../context.ts';
import { EXIT_NOT_FOUND, EXIT_TRUST } from '../exit-codes.ts';
import { fp } from '../presenter.ts';
import { addPublishOptions, publishOptions, publishSettings, type PublishFlags } from '../publish-settings.ts';
import { addPassphraseOption } from '../passphrase.ts';
import { action, addCommonOptions, addConnectOptions } from '../session.ts';

export function attestCommand(cx: KeyCommandContext): Command {
  return addPassphraseOption(addPublishOptions(addConnectOptions(addCommonOptions(new Command('attest').description("sign a contact's key with your current key, publish the attestation and send it to them").argument('<jid>', 'the contact').argument('<fingerprint>', 'their key (see `key list JID`)')))))
    .action(action(async (jidArg: string, fpArg: string, flags: PublishFlags) => {
      const me = cx.account(flags);
      const home = cx.home(flags);
      const bare = parseJid(jidArg).bare;
      const mine = await home.current(me.bare);
      if (!mine) throw new CliError(`no current key for ${me.bare}; run \`pepkeys key generate\` first`, EXIT_NOT_FOUND);
      const { view, subject } = await cx.withContactKey(flags, jidArg, fpArg, async (_trust, view) => {
        if (view.effective === 'revoked') throw new CliError(`key ${fp(view.print)} of ${bare} is revoked; refusing to attest it`, EXIT_TRUST);
        if (!view.payload) throw new CliError(`the trust store has no key data for ${fp(view.print)}; fetch it first`, EXIT_NOT_FOUND);
        return { view, subject: parsePubkey(parseXml(view.payload)) };
      });
      if (view.effective !== 'verified') cx.out.warn(`you have not verified ${bare}'s key ${fp(view.print)} out of band (\`pepkeys key trust\`); attesting it anyway`);
      const signer = signerFromPubkey(mine.pubkey, await home.privateKey(me.bare, mine.id));
      const att = await createAttestation({ subject, signer, signerJid: me.bare });
      const state = await home.state(me.bare);
      const settings = publishSettings(flags, state.publish);
      const item = await cx.withSession(flags, async (s) => {
        const id = await s.keys.publishAttestation(att, bare, publishOptions(settings, flags));
        s.keys.sendPayload(bare, buildAttestation(att), `${me.bare} attests your key ${fp(view.print)}`);
        return id;
      });
      if (flags.json) cx.out.json({ attested: { jid: bare, print: view.print }, signer: fp(mine.id), item, signtime: att.signtime });
      else cx.out.line(`attested ${bare}'s key ${fp(view.print)} with your key ${fp(mine.id)}; published and sent to ${bare}`);
    }));
}
