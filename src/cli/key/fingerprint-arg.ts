// FINGERPRINT arguments: "sha-256:<hex>" as printed by the CLI, the hex alone (spaces, or dashes between groups as
// profanity prints OMEMO fingerprints, ignored), a unique hex prefix of at least 8 digits, or a print as published
// (base64 in 0.14); matched against candidate "<algo>:<hex>" ids.
import { CliError } from '../errors.ts';
import { EXIT_NOT_FOUND } from './exit-codes.ts';

export function normalizeFingerprint(arg: string): string {
  // A fingerprint shortened for display ("sha-256:6c1f…", as the docs print them) is a prefix.
  let s = arg.trim().replace(/(…|\.\.\.)$/, '').replace(/[\s:]/g, (c) => (c === ':' ? ':' : ''));
  const i = s.indexOf(':');
  if (i >= 0 && /^[a-z0-9-]+$/i.test(s.slice(0, i))) s = s.slice(i + 1);
  // profanity prints OMEMO fingerprints as hex groups joined by dashes.
  if (/^[0-9a-f]+(-[0-9a-f]+)+$/i.test(s)) s = s.replaceAll('-', '');
  if (/^[0-9a-f]+$/i.test(s)) return s.toLowerCase();
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(s)) {
    const b = Buffer.from(s, 'base64');
    if (b.length >= 16 && b.toString('base64') === s) return b.toString('hex');
  }
  throw new CliError(`'${arg}' is not a fingerprint (expected hex, e.g. sha-256:1a2b3c4d..., or a base64 print)`);
}

/** The one candidate the argument denotes; throws (exit 4) when none or several match. */
export function matchFingerprint<T>(arg: string, candidates: T[], idOf: (c: T) => string, what: string): T {
  const want = normalizeFingerprint(arg);
  if (want.length < 8) throw new CliError(`fingerprint '${arg}' is too short; give at least 8 hex digits`);
  const hexOf = (c: T) => idOf(c).split(':').pop()!.toLowerCase();
  const exact = candidates.filter((c) => hexOf(c) === want);
  const found = exact.length ? exact : candidates.filter((c) => hexOf(c).startsWith(want));
  if (found.length === 0) throw new CliError(`no ${what} has fingerprint ${arg}`, EXIT_NOT_FOUND);
  if (found.length > 1) throw new CliError(`fingerprint ${arg} matches ${found.length} ${what}s; give more digits`);
  return found[0]!;
}
