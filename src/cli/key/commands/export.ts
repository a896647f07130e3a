// `key export [FINGERPRINT]`: our public key (PEM or the <pubkey/> as published), or with --secret the key pair
// as stored (encrypted if it is) for `key import` in another home; --all takes every key of the home (a backup).
import { Command, Option } from 'commander';
import { open } from 'node:fs/promises';
import { buildPubkey, exportPublicPem, isEncryptedPem, pubkeyPublicKey } from '../../../keys/index.ts';
import { serialize } from '../../../xml/index.ts';
import { CliError } from '../../errors.ts';
import type { KeyCommandContext } from '../context.ts';
import { EXIT_NOT_FOUND } from '../exit-codes.ts';
import { matchFingerprint } from '../fingerprint-arg.ts';
import type { KeyHome, OwnKey } from '../home.ts';
import { formatBundle } from '../key-bundle.ts';
import { fp } from '../presenter.ts';
import { action, addCommonOptions, addJidOption, type CommonFlags } from '../session.ts';

interface ExportFlags extends CommonFlags {
  jid?: string;
  secret?: boolean;
  all?: boolean;
  format: 'pem' | 'xml';
  output?: string;
  force?: boolean;
}

export function exportCommand(cx: KeyCommandContext): Command {
  return addJidOption(addCommonOptions(new Command('export').description('write your public key, or with --secret your key pair (for `key import`), to stdout or --output FILE').argument('[fingerprint]', 'which key (default: the current one)')))
    .option('--secret', 'the private key too, as stored (encrypted when it has a passphrase), with its <pubkey/>')
    .option('--all', 'every key of every account in the home (with --secret: a backup of your keys)')
    .addOption(new Option('--format <format>', 'public key format: pem (SubjectPublicKeyInfo) or xml (the <pubkey/> as published)').choices(['pem', 'xml']).default('pem'))
    .option('-o, --output <file>', 'write to FILE (created 0600 for --secret) instead of stdout')
    .option('--force', 'overwrite --output FILE; write an unencrypted secret key to a terminal')
    .addOption(new Option('--armor', 'accepted for gpg habits: the output is always text').hideHelp())
    .action(action(async (fpArg: string | undefined, flags: ExportFlags) => {
      const home = cx.home(flags);
      const keys = await selectKeys(cx, home, fpArg, flags);
      let text: string;
      let plaintextSecret = false;
      if (flags.secret) {
        const entries = [];
        for (const { bare, key } of keys) {
          const pem = await home.privatePem(bare, key.id);
          plaintextSecret ||= !isEncryptedPem(pem);
          entries.push({ jid: bare, fingerprint: fp(key.id), status: key.revoked ? 'revoked' as const : key.current ? 'current' as const : 'old' as const, pubkeyXml: serialize(buildPubkey(key.pubkey)), pem });
        }
        text = formatBundle(entries);
      } else if (flags.format === 'xml') {
        text = keys.map(({ key }) => `${serialize(buildPubkey(key.pubkey))}\n`).join('');
      } else {
        text = keys.map(({ key }) => exportPublicPem(pubkeyPublicKey(key.pubkey))).join('');
      }
      if (flags.output) {
        await writeOutput(flags.output, text, { secret: !!flags.secret, force: !!flags.force });
        cx.out.info(`wrote ${keys.length} ${flags.secret ? 'secret ' : ''}key${keys.length > 1 ? 's' : ''} to ${flags.output}${plaintextSecret ? ' (UNENCRYPTED: anyone who reads the file has the key; see `pepkeys key passwd`)' : ''}`);
        return;
      }
      // A plaintext private key on screen ends up in scrollback and screen shares; ask for intent.
      if (plaintextSecret && cx.io.stdout.isTTY && !flags.force) {
        throw new CliError('refusing to print an unencrypted private key on the terminal; use --output FILE, a pipe, or --force (or protect it first with `pepkeys key passwd`)');
      }
      cx.io.stdout.write(text);
    }));
}

async function selectKeys(cx: KeyCommandContext, home: KeyHome, fpArg: string | undefined, flags: ExportFlags): Promise<{ bare: string; key: OwnKey }[]> {
  if (flags.all) {
    if (fpArg) throw new CliError('give a FINGERPRINT or --all, not both');
    const all = [];
    for (const bare of await home.accounts()) for (const key of await home.keys(bare)) all.push({ bare, key });
    if (all.length === 0) throw new CliError(`no keys in ${home.dir}`, EXIT_NOT_FOUND);
    return all;
  }
  const bare = (await cx.ownAccount(flags)).bare;
  const own = await home.keys(bare);
  if (fpArg) return [{ bare, key: matchFingerprint(fpArg, own, (k) => k.id, 'key of yours') }];
  const current = own.find((k) => k.current);
  if (!current) throw new CliError(`no current key for ${bare} in ${home.dir}; name one by FINGERPRINT (see \`pepkeys key list\`)`, EXIT_NOT_FOUND);
  return [{ bare, key: current }];
}

async function writeOutput(path: string, text: string, opts: { secret: boolean; force: boolean }): Promise<void> {
  let fh;
  try {
    fh = await open(path, opts.force ? 'w' : 'wx', opts.secret ? 0o600 : 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new CliError(`${path} exists; give --force to overwrite it`);
    throw new CliError(`cannot write ${path}: ${(e as Error).message}`);
  }
  try {
    // An existing file keeps its mode on open; a secret must not stay readable by others.
    if (opts.secret) await fh.chmod(0o600);
    await fh.writeFile(text);
  } finally {
    await fh.close();
  }
}
