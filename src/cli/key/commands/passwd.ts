// `key passwd [FINGERPRINT]`: set, change or (--remove) drop the passphrase of your private keys, all of the
// account's by default. Every key is unlocked first, so a wrong passphrase changes nothing.
import { Command } from 'commander';
import { encryptPrivateKey } from '../../../keys/index.ts';
import type { KeyCommandContext } from '../context.ts';
import { matchFingerprint } from '../fingerprint-arg.ts';
import { addPassphraseOption, newPassphrase, readPassphraseFile } from '../passphrase.ts';
import { shortFp } from '../presenter.ts';
import { action, addCommonOptions, addJidOption, type CommonFlags } from '../session.ts';
import { CliError } from '../../errors.ts';
import { EXIT_NOT_FOUND } from '../exit-codes.ts';

interface PasswdFlags extends CommonFlags {
  jid?: string;
  remove?: boolean;
  newPassphraseFile?: string;
}

export function passwdCommand(cx: KeyCommandContext): Command {
  return addPassphraseOption(addJidOption(addCommonOptions(new Command('passwd').description('set, change or remove the passphrase of your private keys (all of the account\'s by default)').argument('[fingerprint]', 'only this key'))))
    .option('--new-passphrase-file <file>', 'the new passphrase, from the first line of FILE (else $PEPKEYS_NEW_KEY_PASSPHRASE, or asked twice)')
    .option('--remove', 'store the keys unencrypted')
    .action(action(async (fpArg: string | undefined, flags: PasswdFlags) => {
      const bare = (await cx.ownAccount(flags)).bare;
      const home = cx.home(flags);
      const own = await home.keys(bare);
      const keys = fpArg ? [matchFingerprint(fpArg, own, (k) => k.id, 'key of yours')] : own;
      if (keys.length === 0) throw new CliError(`no keys for ${bare} in ${home.dir}`, EXIT_NOT_FOUND);
      const unlocked = [];
      for (const k of keys) unlocked.push({ k, key: await home.privateKey(bare, k.id) });
      if (flags.remove && flags.newPassphraseFile) throw new CliError('give --remove or --new-passphrase-file, not both');
      const given = flags.newPassphraseFile !== undefined ? readPassphraseFile(flags.newPassphraseFile) : cx.io.env.PEPKEYS_NEW_KEY_PASSPHRASE || undefined;
      const passphrase = flags.remove ? undefined : await newPassphrase(cx.io, given, { required: true, prompt: `New passphrase for ${keys.length > 1 ? `the ${keys.length} keys` : 'the key'} of ${bare}` });
      for (const { k, key } of unlocked) {
        const pem = passphrase === undefined ? key.export({ type: 'pkcs8', format: 'pem' }).toString() : await encryptPrivateKey(key, passphrase);
        await home.replacePrivatePem(bare, k.id, pem);
      }
      const ids = keys.map((k) => k.id);
      if (flags.json) cx.out.json({ jid: bare, keys: ids.map((id) => `sha-256:${id}`), encrypted: passphrase !== undefined });
      else cx.out.line(`${passphrase === undefined ? 'removed the passphrase of' : 'set a new passphrase on'} ${ids.length > 1 ? `${ids.length} keys` : 'key'} ${ids.map(shortFp).join(', ')} of ${bare}`);
    }));
}
