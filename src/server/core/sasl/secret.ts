// The secret behind the fake SCRAM salts of unknown accounts lives in the data directory: a fresh one per
// start would change every fake salt at each restart, while real salts stay, which tells a patient prober
// which names are real accounts.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const FILE = 'sasl-secret';
const BYTES = 32;

/** Reads `<dataDir>/sasl-secret`, creating it (owner-only) on the first start. */
export function loadSaslSecret(dataDir: string): Buffer {
  const path = join(dataDir, FILE);
  try {
    const s = readFileSync(path);
    if (s.length === BYTES) return s;
    throw new Error(`${path} is ${s.length} bytes, expected ${BYTES}: remove it to have a new one made`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(BYTES);
  try {
    writeFileSync(path, secret, { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (err) {
    // Another process (a second start, the CLI) made it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(path);
    throw err;
  }
}
