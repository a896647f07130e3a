// What a CLI run touches of the outside world, passed in rather than taken from `process`, so the whole program
// runs in-process in the tests (captured output, a string as stdin, an AbortSignal as Ctrl-C) exactly as it
// runs for an operator (processIo()).

export interface OutputStream {
  write(chunk: string): unknown;
  /** A terminal: prompts without echo, a spinner while a key generates. */
  isTTY?: boolean;
}

export type InputStream = NodeJS.ReadableStream & { isTTY?: boolean; destroy?: () => void };

export type StopSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';

export interface CliIo {
  stdout: OutputStream;
  stderr: OutputStream;
  /** Passwords come from here when not given otherwise (a prompt on a terminal, else its first line). */
  stdin: InputStream;
  /** PEPKEYS_HOME, PEPKEYS_JID, PEPKEYS_PASSWORD, PEPKEYS_KEY_PASSPHRASE, PEPKEYS_DEBUG. */
  env: Readonly<Record<string, string | undefined>>;
  /** Calls `handler` on each delivery of `signal` until the returned function is called. */
  onSignal(signal: StopSignal, handler: (signal: StopSignal) => void): () => void;
  /**
   * Leaves the process at once with `code`: only for the real process, where `serve` must not wait for handles
   * a failed start left open. In-process runs have none, and `serve` returns instead.
   */
  exit?: (code: number) => never;
}

/** One run of the program: its io, and the exit code a command may set without failing (e.g. 5 for trust). */
export interface CliContext {
  io: CliIo;
  exitCode: number;
}

export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    onSignal(signal, handler) {
      process.on(signal, handler);
      return () => void process.off(signal, handler);
    },
    exit: (code) => process.exit(code),
  };
}
