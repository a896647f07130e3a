// Human-readable tables by default, JSON with --json (one document, or one object per line for `watch`).
export function table(rows: Record<string, string>[], columns: string[]): string {
  if (rows.length === 0) return '';
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) => cells.map((v, i) => (i === cells.length - 1 ? v : v.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...rows.map((r) => line(columns.map((c) => r[c] ?? '')))].join('\n') + '\n';
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printJsonLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

export function warn(message: string): void {
  process.stderr.write(`pepkeys: warning: ${message}\n`);
}

export function info(message: string): void {
  process.stderr.write(`${message}\n`);
}
