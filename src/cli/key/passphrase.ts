// The passphrase of our private keys, from the same places for every command: --passphrase-file FILE, then
// $PEPKEYS_KEY_PASSPHRASE, then a prompt on a terminal, then the first line of piped stdin. It is read at most
// once per run, and only when a key to unlock is encrypted, so plain keys never cause a prompt.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError } from '../errors.ts';
import type { CliIo } from '../io.ts';
import { readPassword } from '../password-input.ts';

export interface PassphraseFlags {
  passphraseFile?: string;
}

/** Asks for the passphrase of the key `what` names (the prompt shows it). */
export type PassphraseSource = (what: string) => Promise<string>;

const MISSING = 'set $PEPKEYS_KEY_PASSPHRASE, give --passphrase-file FILE, or pipe the passphrase in (with the account password in $PEPKEYS_PASSWORD: piped stdin carries one line)';

export function addPassphraseOption(cmd: Command): Command {
  return cmd.option('--passphrase-file <file>', 'read the passphrase of your private keys from the first line of FILE (else $PEPKEYS_KEY_PASSPHRASE, the prompt, or piped stdin)');
}

/** The first line of FILE, without its line ending. */
export function readPassphraseFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read the passphrase file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const line = text.split(/\r?\n/, 1)[0]!;
  if (line.length === 0) throw new CliError(`the passphrase file ${file} starts with an empty line`);
  return line;
}

/** The passphrase given without asking (file or environment), if any. */
export function givenPassphrase(io: CliIo, flags: PassphraseFlags): string | undefined {
  if (flags.passphraseFile !== undefined) return readPassphraseFile(flags.passphraseFile);
  const env = io.env.PEPKEYS_KEY_PASSPHRASE;
  return env === undefined || env === '' ? undefined : env;
}

/** The run's source for unlocking keys: asks once, then answers every key with the same passphrase. */
export function passphraseSource(io: CliIo, flags: PassphraseFlags): PassphraseSource {
  let value: Promise<string> | undefined;
  return (what) =>
    (value ??= Promise.resolve().then(
      () => givenPassphrase(io, flags) ?? readPassword({ prompt: `Passphrase for ${what}: `, stdin: io.stdin, stderr: io.stderr, noun: 'passphrase', missing: MISSING }),
    ));
}

/**
 * A passphrase for keys about to be written (generate, passwd, import). `required`: the user asked for one,
 * so none is an error; otherwise a terminal is asked, with an empty answer for none, and a script gets none.
 */
export async function newPassphrase(io: CliIo, given: string | undefined, opts: { required: boolean; prompt: string }): Promise<string | undefined> {
  if (given !== undefined) return given;
  if (!io.stdin.isTTY && !opts.required) return undefined;
  const p = await readPassword({
    prompt: opts.required ? `${opts.prompt}: ` : `${opts.prompt} (empty for none): `,
    confirm: true, allowEmpty: !opts.required, stdin: io.stdin, stderr: io.stderr, noun: 'passphrase', missing: MISSING,
  });
  return p.length ? p : undefined;
}
