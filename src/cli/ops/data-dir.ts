// The data directory: there (or creatable), writable, owner-only, not in use by a running server. It holds
// the database with every account's SCRAM keys, the TLS private key and the SASL secret, hence 0700 and 0600.
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { storagePath, type ServerConfig } from '../../server/config.ts';
import { generatedTlsFiles } from '../../server/core/tls-credentials.ts';
import { lockHolder } from '../../server/data-dir-lock.ts';
import { ktFileOf } from '../../storage/sqlite/kt-file.ts';
import { error, ok, warning, type Finding } from './findings.ts';

const D = 'data';
const mode = (m: number) => `0${(m & 0o777).toString(8)}`;

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function nearestExisting(path: string): string {
  let p = path;
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  return p;
}

const withSideFiles = (path: string) => [path, `${path}-wal`, `${path}-shm`];

/** The files that hold secrets: each should be readable by the server's user only. */
export function secretFiles(config: ServerConfig): string[] {
  const dir = resolve(config.data_dir);
  // The transparency file too, although its log is public: it also pairs each map label with the JID and node
  // behind it, which the map's VRF exists to hide, and whoever may write it can rewrite the log, which clients
  // would then hold against the domain. The server creates it 0600 like the database (storage/sqlite/database.ts).
  const db = config.storage.driver === 'sqlite' ? [...withSideFiles(storagePath(config)), ...withSideFiles(ktFileOf(storagePath(config)))] : [];
  return [...db, generatedTlsFiles(dir).key, join(dir, 'sasl-secret')];
}

export function checkDataDir(config: ServerConfig): { findings: Finding[]; runningServer?: number } {
  const dir = resolve(config.data_dir);
  if (!existsSync(dir)) {
    const parent = nearestExisting(dir);
    if (!writable(parent)) return { findings: [error(D, `data directory ${dir} does not exist and ${parent} is not writable: create it (mkdir -m 700) and chown it to the user the server runs as`)] };
    return { findings: [ok(D, `data directory ${dir} does not exist yet; the server creates it (0700) at its first start`)] };
  }
  const st = statSync(dir);
  if (!st.isDirectory()) return { findings: [error(D, `data directory ${dir} is not a directory: point data_dir (or --data) at a directory`)] };
  const out: Finding[] = [];
  if (!writable(dir)) out.push(error(D, `data directory ${dir} is not writable by this user: chown it to the user the server runs as`));
  if (st.mode & 0o077) out.push(warning(D, `data directory ${dir} is mode ${mode(st.mode)} and holds account credentials: chmod 700 ${dir}`));
  for (const file of secretFiles(config)) {
    if (!existsSync(file)) continue;
    const m = statSync(file).mode;
    if (m & 0o077) out.push(warning(D, `${file} is mode ${mode(m)} and holds secrets: chmod 600 ${file}`));
  }
  const pid = lockHolder(dir);
  if (pid !== undefined) {
    out.push(warning(D, `data directory ${dir} is in use by a running pepkeys server (pid ${pid}); a second server on it is refused: stop that one first, or give this one its own data_dir`));
  }
  if (out.length === 0) out.push(ok(D, `data directory ${dir} is writable and owner-only`));
  return { findings: out, runningServer: pid };
}
