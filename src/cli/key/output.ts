// Where `key` commands write: human-readable tables by default, JSON with --json (one document, or one object
// per line for `watch`); warnings and progress on stderr.
import type { CliIo } from '../io.ts';

export function table(rows: Record<string, string>[], columns: string[]): string {
  if (rows.length === 0) return '';
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) => cells.map((v, i) => (i === cells.length - 1 ? v : v.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...rows.map((r) => line(columns.map((c) => r[c] ?? '')))].join('\n') + '\n';
}

export class KeyOutput {
  constructor(private readonly io: CliIo) {}

  /** One line on stdout. */
  line(text: string): void {
    this.io.stdout.write(`${text}\n`);
  }

  table(rows: Record<string, string>[], columns: string[]): void {
    this.io.stdout.write(table(rows, columns));
  }

  json(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  jsonLine(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value)}\n`);
  }

  warn(message: string): void {
    this.io.stderr.write(`pepkeys: warning: ${message}\n`);
  }

  info(message: string): void {
    this.io.stderr.write(`${message}\n`);
  }
}
