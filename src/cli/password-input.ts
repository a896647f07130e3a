// Reads a password for `user add` / `user passwd` when --password is not given: a prompt without echo on a
// terminal, or the first line of stdin when it is piped (`echo secret | pepkeys user add ...`), so scripts
// need not put the password on the command line where `ps` shows it.
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
}

export async function readPassword(opts: PasswordInputOptions): Promise<string> {
  const { stdin, stderr } = opts;
  let password: string;
  if (stdin.isTTY) {
    password = await promptHidden(stdin as ReadStream, stderr, opts.prompt);
    if (opts.confirm) {
      const again = await promptHidden(stdin as ReadStream, stderr, 'Retype password: ');
      if (again !== password) throw new CliError('passwords do not match');
    }
  } else {
    password = await readFirstLine(stdin);
    // Not a terminal and nothing piped in (a script, CI, an editor's task runner): say how to give one.
    if (password.length === 0) throw new CliError('empty password: stdin is not a terminal and gave no line; pass --password, set $PEPKEYS_PASSWORD (key commands), or pipe the password in');
  }
  if (password.length === 0) throw new CliError('empty password');
  return password;
}

/** First line of a piped stdin, without its line ending; stops reading as soon as the line is complete. */
export function readFirstLine(stdin: InputStream): Promise<string> {
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
    const onError = (e: Error) => done(new CliError(`cannot read the password from stdin: ${e.message}`));
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    stdin.once('error', onError);
  });
}

function promptHidden(stdin: ReadStream, stderr: OutputStream, prompt: string): Promise<string> {
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
            if (value.length === 0) return finish(new CliError('no password given'));
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
