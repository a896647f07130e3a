// Operator-facing failure reporting: every error ends as ONE line `pepkeys: <message>` on stderr and a
// non-zero exit code, so scripts can rely on `$?` and a human sees one sentence rather than a stack trace.
import { CommanderError } from 'commander';
import { ConfigError } from '../server/config.ts';
import { JidError } from '../jid/index.ts';
import { AccountExistsError } from '../storage/types.ts';
import type { CliIo, OutputStream } from './io.ts';

export const EXIT_OK = 0;
/** Usage errors (commander's own included) and runtime failures alike; see docs/cli.md. */
export const EXIT_FAILURE = 1;
/** Interrupted at a password prompt (Ctrl-C), following the shell's 128 + SIGINT convention. */
export const EXIT_INTERRUPTED = 130;

/** An error whose message is already written for the operator. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = EXIT_FAILURE) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** Collapses a possibly multi-line message (config errors list one issue per line) into one line. */
export function oneLine(message: string, separator = '; '): string {
  return message
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .join(separator);
}

/** The text after `pepkeys: ` for any thrown value. */
export function describeError(err: unknown): string {
  if (err instanceof CliError || err instanceof ConfigError || err instanceof AccountExistsError) return oneLine(err.message);
  if (err instanceof JidError) return `invalid JID: ${err.message}`;
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    // Node's listen errors already name the address ("listen EADDRINUSE: address already in use 127.0.0.1:5222").
    if (code === 'EACCES' || code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL') return oneLine(err.message);
    if (code === 'SQLITE_BUSY') return 'the database is locked by another process; try again';
    return oneLine(err.message) || err.name;
  }
  return oneLine(String(err));
}

export function exitCodeOf(err: unknown): number {
  if (err instanceof CliError || err instanceof CommanderError) return err.exitCode;
  return EXIT_FAILURE;
}

export function printError(message: string, stderr: OutputStream): void {
  stderr.write(`pepkeys: ${message}\n`);
}

/**
 * Commander writes its own usage errors ("error: unknown option '--x'\n(Did you mean --y?)"); rewrite them
 * into the same one-line shape as ours.
 */
export function formatCommanderError(text: string): string {
  return `pepkeys: ${oneLine(text.replace(/^error:\s*/i, ''), ' ')}\n`;
}

/** Reports a failure and returns its exit code; the caller exits, so pending stdout/stderr writes still flush. */
export function fail(err: unknown, io: CliIo): number {
  // Commander has already printed its own message (or help) by the time its error reaches us.
  if (!(err instanceof CommanderError)) printError(describeError(err), io.stderr);
  if (io.env.PEPKEYS_DEBUG && err instanceof Error && !(err instanceof CommanderError)) io.stderr.write(`${err.stack}\n`);
  return exitCodeOf(err);
}
