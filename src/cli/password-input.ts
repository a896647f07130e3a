// Reads a password for `user add` / `user passwd` (and the passphrase of a private key) when it is not given
// otherwise: a prompt without echo on a terminal, or the first line of stdin when it is piped
// (`echo secret | pepkeys user add ...`), so scripts need not put it on the command line where `ps` shows it.
import type { ReadStream } from 'node:tty';
import { CliError, EXIT_INTERRUPTED } from './errors.ts';
import type { InputStream, OutputStream } from './io.ts';

export interface PasswordInputOptions {
  /** Shown on a terminal, e.g. "Password for alice@localhost: ". */
  prompt: string;
  /** On a terminal, ask twice and require both to match (typos are invisible without echo). */
  confirm?: boolean;
  stdin: InputStream;
  stderr: OutputStream;
  /** What is read, in messages (default "password"). */
  noun?: string;
  /** The message when stdin is not a terminal and gives no line: how else to give the secret. */
  missing?: string;
  /** On a terminal, an empty answer is returned (e.g. "empty for no passphrase") instead of refused. */
  allowEmpty?: boolean;
}

export async function readPassword(opts: PasswordInputOptions): Promise<string> {
  const { stdin, stderr } = opts;
  const noun = opts.noun ?? 'password';
  let password: string;
  if (stdin.isTTY) {
    password = await promptHidden(stdin as ReadStream, stderr, opts.prompt, noun);
    if (password.length === 0 && opts.allowEmpty) return password;
    if (opts.confirm && password.length > 0) {
      const again = await promptHidden(stdin as ReadStream, stderr, `Retype ${noun}: `, noun);
      if (again !== password) throw new CliError(`${noun}s do not match`);
    }
  } else {
    password = await readFirstLine(stdin, noun);
    // Not a terminal and nothing piped in (a script, CI, an editor's task runner): say how to give one.
    if (password.length === 0) throw new CliError(`empty ${noun}: stdin is not a terminal and gave no line; ${opts.missing ?? 'pass --password, set $PEPKEYS_PASSWORD (key commands), or pipe the password in'}`);
  }
  if (password.length === 0) throw new CliError(`empty ${noun}`);
  return password;
}

/** First line of a piped stdin, without its line ending; stops reading as soon as the line is complete. */
export function readFirstLine(stdin: InputStream, noun = 'password'): Promise<string> {
  // Already read (one run may need two secrets, e.g. a key passphrase and the account password): a destroyed
  // stream would never end, so answer "no line" rather than wait forever.
  const s = stdin as { destroyed?: boolean; readableEnded?: boolean };
  if (s.destroyed || s.readableEnded) return Promise.resolve('');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const done = (err?: Error) => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.off('error', onError);
      // Destroy rather than pause: a paused pipe that stays open would keep the process alive.
      stdin.destroy?.();
      if (err) return reject(err);
      const text = Buffer.concat(chunks).toString('utf8');
      const nl = text.indexOf('\n');
      resolve((nl < 0 ? text : text.slice(0, nl)).replace(/\r$/, ''));
    };
    const onData = (d: Buffer | string) => {
      const b = typeof d === 'string' ? Buffer.from(d) : d;
      chunks.push(b);
      if (b.includes(0x0a)) done();
    };
    const onEnd = () => done();
    const onError = (e: Error) => done(new CliError(`cannot read the ${noun} from stdin: ${e.message}`));
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    stdin.once('error', onError);
  });
}

function promptHidden(stdin: ReadStream, stderr: OutputStream, prompt: string, noun: string): Promise<string> {
  stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let value = '';
    const wasRaw = stdin.isRaw;
    stdin.setRawMode(true);
    stdin.setEncoding('utf8');
    stdin.resume();
    const finish = (err?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode(wasRaw);
      stdin.pause();
      stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      // A paste arrives as one chunk, so walk it character by character.
      for (const ch of chunk) {
        switch (ch) {
          case '\r':
          case '\n':
            return finish();
          case '\u0003': // Ctrl-C: raw mode swallows SIGINT, so honour it here.
            return finish(new CliError('interrupted', EXIT_INTERRUPTED));
          case '\u0004': // Ctrl-D
            if (value.length === 0) return finish(new CliError(`no ${noun} given`));
            return finish();
          case '\u007f':
          case '\b':
            value = [...value].slice(0, -1).join('');
            break;
          default:
            if (ch >= ' ') value += ch;
        }
      }
    };
    stdin.on('data', onData);
  });
}
