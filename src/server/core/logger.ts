// Structured logging with pino. Components get child loggers carrying their name; passwords, SASL data
// and stanza payloads are never logged at info level.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string = 'info'): Logger {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime });
}
