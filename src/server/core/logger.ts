// Structured logging with pino. Components get child loggers carrying their name (a session's carries its
// id and peer address); passwords, SASL data and stanza payloads are never logged at info level, and the
// stanza trace (level trace, stanza-trace.ts) redacts them.
import { pino, type DestinationStream, type Logger } from 'pino';
import { PinoPretty } from 'pino-pretty';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

export type { Logger };

export type LogFormat = 'json' | 'pretty';

export interface LogOptions {
  level?: string;
  /** json: one object per line (for collectors); pretty: coloured, human-readable lines (for terminals). */
  format?: LogFormat;
  /** Append to this file instead of writing to stdout; `reopen()` opens it again (after log rotation). */
  file?: string;
  /** Write here instead (tests); overrides `file`. */
  stream?: DestinationStream;
}

export interface LogOutput {
  logger: Logger;
  /** Reopens the log file (SIGHUP after logrotate moved it); nothing to do when logging to stdout. */
  reopen(): void;
}

export function createLogger(level: string = 'info'): Logger {
  return createLogOutput({ level }).logger;
}

export function createLogOutput(opts: LogOptions = {}): LogOutput {
  // Opened once here so a path that cannot be written is refused at start, in one sentence (the
  // destination below opens it again, asynchronously).
  if (opts.file !== undefined && opts.stream === undefined) checkWritable(opts.file);
  // Asynchronous writes to the file (SonicBoom buffers; pino flushes it at exit), synchronous to stdout as
  // before, so a crash loses no line a terminal would have shown.
  const boom = opts.stream === undefined ? pino.destination({ dest: opts.file ?? 1, sync: opts.file === undefined }) : undefined;
  // A file that fails later (disk full, a directory gone at reopen) must not take the server down with it.
  if (opts.file !== undefined) boom?.on('error', (err: Error) => process.stderr.write(`pepkeys: log file ${opts.file}: ${err.message}\n`));
  const target = opts.stream ?? boom!;
  const dest =
    opts.format === 'pretty'
      ? PinoPretty({ destination: target, colorize: opts.file === undefined && opts.stream === undefined && process.stdout.isTTY, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
      : target;
  const logger = pino({ level: opts.level ?? 'info', base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, dest);
  return {
    logger,
    reopen: () => {
      if (opts.file !== undefined && boom) boom.reopen();
    },
  };
}

function checkWritable(file: string): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    closeSync(openSync(file, 'a'));
  } catch (err) {
    throw new Error(`cannot open the log file ${file} (log.file): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
