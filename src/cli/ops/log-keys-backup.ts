// The domains' transparency log keys (DATA/kt/*.ed25519.pem) travel inside a `pepkeys backup` file, in a
// table of the copy, so the backup stays one file. A server restored without them would sign its heads
// with a new key, and every client that pinned the old one would see the log key change (key-changed).
// The verifiable map's VRF keys (*.vrf.ed25519.pem) and commitment secrets (*.commit-secret) go the same
// way: without them every map label and commitment would have to be made anew. So do the log-key rotation
// statements (*.rotations.xml, with the retired keys): without them a restored server could not show
// clients the statement that links its current key to the one they pinned.
// Restore writes them back 0600 in a 0700 kt/ directory and drops the table from the restored database.
import type Database from 'better-sqlite3';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from '../errors.ts';

const TABLE = 'pepkeys_backup_files';
const KT_DIR = 'kt';
const KEY_FILE = /^[^/\\]+\.(ed25519\.pem|commit-secret|rotations\.xml)$/;

/** Copies every log key of `dataDir` into the backup database `copy`; returns their file names. */
export function embedLogKeys(copy: Database.Database, dataDir: string): string[] {
  const dir = join(dataDir, KT_DIR);
  const names = existsSync(dir) ? readdirSync(dir).filter((n) => KEY_FILE.test(n) && statSync(join(dir, n)).isFile()).sort() : [];
  copy.exec(`CREATE TABLE ${TABLE} (path TEXT PRIMARY KEY, content BLOB NOT NULL) STRICT`);
  const insert = copy.prepare(`INSERT INTO ${TABLE} (path, content) VALUES (?, ?)`);
  copy.transaction(() => {
    for (const n of names) insert.run(`${KT_DIR}/${n}`, readFileSync(join(dir, n)));
  })();
  return names;
}

/**
 * Writes the log keys a backup carries into `dataDir`/kt (0600), then drops the table from `restored` (the
 * restored copy, before it is moved into place). An existing key with other content is refused unless
 * `force`, and then kept beside, renamed, never overwritten. Returns the file names written.
 */
export function restoreLogKeys(restored: Database.Database, dataDir: string, force: boolean | undefined): string[] {
  const hasTable = restored.prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?`).pluck().get(TABLE) !== undefined;
  if (!hasTable) return [];
  const rows = restored.prepare(`SELECT path, content FROM ${TABLE} ORDER BY path`).all() as { path: string; content: Buffer }[];
  const dir = join(dataDir, KT_DIR);
  const files = rows.map((r) => {
    const name = r.path.slice(KT_DIR.length + 1);
    if (!r.path.startsWith(`${KT_DIR}/`) || !KEY_FILE.test(name)) throw new CliError(`the backup carries an unexpected file ${JSON.stringify(r.path)}: not restoring it`);
    return { name, path: join(dir, name), content: r.content };
  });
  for (const f of files) {
    if (existsSync(f.path) && !readFileSync(f.path).equals(f.content) && !force) {
      throw new CliError(`${f.path} holds another log key than the backup's: give --force to replace it (it is kept beside, renamed)`);
    }
  }
  if (files.length) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  for (const f of files) {
    if (existsSync(f.path)) {
      if (readFileSync(f.path).equals(f.content)) {
        chmodSync(f.path, 0o600);
        continue;
      }
      renameSync(f.path, `${f.path}.replaced-${stamp}`);
    }
    writeFileSync(f.path, f.content, { mode: 0o600, flag: 'wx' });
    chmodSync(f.path, 0o600);
  }
  restored.exec(`DROP TABLE ${TABLE}`);
  return files.map((f) => f.name);
}
