// `key generate`: a new key pair for the account, made current; optionally shows <generating/> meanwhile.
import { Command, Option } from 'commander';
import { generateKeyPair, type RsaBits } from '../../../keys/index.ts';
import type { KeyCommandContext } from '../context.ts';
import type { OwnKey } from '../home.ts';
import { progressReporter } from '../progress.ts';
import { OWN_COLUMNS, ownKeyJson, ownKeyRow } from '../presenter.ts';
import { givenPassphrase, newPassphrase, addPassphraseOption } from '../passphrase.ts';
import { pubkeySettings, type PubkeySettingsFlags } from '../pubkey-settings.ts';
import { action, addCommonOptions, addConnectOptions, addLongOption, type ConnectFlags } from '../session.ts';

interface GenerateFlags extends ConnectFlags, PubkeySettingsFlags {
  type: 'rsa' | 'ed25519';
  bits: string;
  announce?: boolean;
  /** true: --passphrase, false: --no-passphrase, undefined: neither. */
  passphrase?: boolean;
}

export function generateCommand(cx: KeyCommandContext): Command {
  return addLongOption(addPassphraseOption(addConnectOptions(addCommonOptions(new Command('generate').description('generate a key pair for your account and make it the current key')))))
    .addOption(new Option('--type <type>', 'key type').choices(['rsa', 'ed25519']).default('rsa'))
    .option('--bits <n>', 'RSA key size: 2048, 3072 or 4096', '3072')
    .option('--valid-days <n>', 'validity period in days, from now', '365')
    .addOption(new Option('--key-version <v>', 'payload version: 2 (urn:xmpp:pubkey:2, RSA only) or 1 (urn:xmpp:pubkey:1)').choices(['1', '2']))
    .option('--announce', 'log in and show <generating/> in your presence while the key is generated (XEP-0189 §9)')
    .option('--passphrase', 'encrypt the private key with a passphrase: asked for on a terminal, else from --passphrase-file, $PEPKEYS_KEY_PASSPHRASE or piped stdin')
    .option('--no-passphrase', 'store the private key unencrypted, without asking (even with $PEPKEYS_KEY_PASSPHRASE set)')
    .action(action(async (flags: GenerateFlags) => {
      const jid = cx.account(flags);
      const home = cx.home(flags);
      const bits = Number(flags.bits) as RsaBits;
      const makePubkey = pubkeySettings(flags, flags.type);
      // Asked before anything slow. Without --passphrase, a terminal is asked (empty for none) and a script that
      // gives none keeps the unencrypted key it always had.
      const passphrase = flags.passphrase === false ? undefined : await newPassphrase(cx.io, givenPassphrase(cx.io, flags), { required: flags.passphrase === true, prompt: `Passphrase to protect the new key of ${jid.bare}` });
      const session = flags.announce ? await cx.openSession(flags) : undefined;
      try {
        session?.keys.announceGenerating(true);
        const label = flags.type === 'rsa' ? `generating RSA-${bits} key` : 'generating Ed25519 key';
        const onProgress = progressReporter(label, cx.io.stderr);
        const pair = await generateKeyPair(flags.type === 'rsa' ? { type: 'rsa', bits, onProgress } : { type: 'ed25519', onProgress });
        const pk = makePubkey(pair.publicKey, jid.bare);
        const id = await home.addKey(jid.bare, pk, pair.privateKey, passphrase);
        session?.keys.announceGenerating(false);
        const own: OwnKey = { id, pubkey: pk, current: true, revoked: false, encrypted: passphrase !== undefined };
        if (flags.json) cx.out.json(ownKeyJson(own));
        else cx.out.table([ownKeyRow(own, flags)], OWN_COLUMNS);
        const others = (await home.keys(jid.bare)).filter((k) => k.id !== id && !k.revoked);
        if (others.length) cx.out.info(`the new key is now current; publish it with \`pepkeys key publish\`, then revoke the old one with \`pepkeys key revoke ${others.map((k) => `sha-256:${k.id.slice(0, 16)}`).join(' / ')}\``);
      } finally {
        await session?.close();
      }
    }));
}
