// What `pepkeys check` (and `cert import`) report: one finding per thing looked at, each one line that says
// what is wrong and what to do. `ok` findings appear only in --json, so the human output lists problems.

export type Level = 'ok' | 'warning' | 'error';

export interface Finding {
  /** What was looked at: config, certificate, ports, data, database. */
  check: string;
  level: Level;
  message: string;
}

export const ok = (check: string, message: string): Finding => ({ check, level: 'ok', message });
export const warning = (check: string, message: string): Finding => ({ check, level: 'warning', message });
export const error = (check: string, message: string): Finding => ({ check, level: 'error', message });

export function count(findings: readonly Finding[], level: Level): number {
  return findings.filter((f) => f.level === level).length;
}

/** `error: …` / `warning: …`; ok findings print nothing. */
export function problemLines(findings: readonly Finding[]): string {
  return findings.filter((f) => f.level !== 'ok').map((f) => `${f.level}: ${f.message}\n`).join('');
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function summaryLine(findings: readonly Finding[]): string {
  const errors = count(findings, 'error');
  const warnings = count(findings, 'warning');
  const checked = [...new Set(findings.map((f) => f.check))].join(', ');
  const verdict = errors + warnings === 0 ? 'ok' : [errors && plural(errors, 'error'), warnings && plural(warnings, 'warning')].filter(Boolean).join(', ');
  return `pepkeys check: ${verdict} (checked ${checked})`;
}
