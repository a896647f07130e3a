// A private PostgreSQL server for tests: Debian's binaries (apt-get install -y postgresql), a throwaway data
// directory, TCP on 127.0.0.1 at a free port, the unix socket inside the temp dir, trust authentication.
// PostgreSQL refuses to run as root, so under root every server command runs as the `postgres` OS user
// (created by the Debian package) and the temp dir is handed to it. deadlock_timeout is lowered from 1 s to
// 100 ms so tests that provoke deadlocks between two servers do not wait a second per deadlock. fsync is
// off: the tests kill processes (the server included), never the machine, and a commit's WAL is written
// to the kernel before COMMIT returns either way, so a killed server still recovers every acknowledged
// write (fsync=off only risks data on an OS crash or power loss); it halves the time of the storage suites.
//
// Usage in a test file:
//   const pg = await startPostgres();            // undefined when skipped (PEPKEYS_SKIP_POSTGRES=1)
//   after(() => pg?.stop());
//   const url = await pg.createDatabase();       // one database per test file (or per need)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, chownSync, mkdirSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export const POSTGRES_MISSING =
  'PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/initdb): run `apt-get install -y postgresql` ' +
  '(or set PEPKEYS_SKIP_POSTGRES=1 to skip the PostgreSQL tests)';

export interface PostgresServer {
  readonly host: string;
  readonly port: number;
  /** Directory holding the unix socket. */
  readonly socketDir: string;
  readonly user: string;
  /** Connection string for a database on this server. */
  url(database: string): string;
  /** Creates a new empty database and returns its connection string. */
  createDatabase(name?: string): Promise<string>;
  /** Runs SQL as the superuser against a database (default "postgres"). */
  query(sql: string, database?: string): Promise<pg.QueryResult>;
  /** Kills the postmaster and its backends with SIGKILL (no shutdown checkpoint), as a power cut would stop them. */
  crash(): void;
  /** Starts the server again on the same data directory and port (after crash or stop). */
  restart(): void;
  /** `pg_ctl stop -m fast`, then removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

/** The newest installed Debian PostgreSQL bin directory, or undefined. */
export function findPostgresBin(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'initdb')) && existsSync(join(base, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(base, versions[0], 'bin') : undefined;
}

/** 'skip' when PostgreSQL is missing and PEPKEYS_SKIP_POSTGRES=1, 'missing' when missing otherwise. */
export function postgresAvailability(): 'ok' | 'skip' | 'missing' {
  if (findPostgresBin()) return 'ok';
  return process.env.PEPKEYS_SKIP_POSTGRES === '1' ? 'skip' : 'missing';
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

let databaseCounter = 0;

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** The processes whose parent is `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid ...": the fields after the command name.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // Exited while we looked.
    }
  }
  return children;
}

/** Whether `pid` is a live process (not exited, not a zombie). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S ...", the state after the command name.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true;
  }
}

/**
 * Starts a private server. Throws POSTGRES_MISSING when the binaries are absent, unless
 * PEPKEYS_SKIP_POSTGRES=1, in which case it returns undefined.
 */
export async function startPostgres(): Promise<PostgresServer | undefined> {
  const bin = findPostgresBin();
  if (!bin) {
    if (process.env.PEPKEYS_SKIP_POSTGRES === '1') return undefined;
    throw new Error(POSTGRES_MISSING);
  }
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    if (id.status !== 0) throw new Error('running as root, but there is no `postgres` OS user to run PostgreSQL as (the Debian postgresql package creates it)');
  }
  // Runs a server binary, as the postgres user when we are root.
  const run = (cmd: string, args: string[]) => {
    const full = join(bin, cmd);
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', full, ...args]] : [full, args];
    try {
      return execFileSync(file, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; message: string };
      throw new Error(`${cmd} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    }
  };

  const root = mkdtempSync(join(tmpdir(), 'pepkeys-pg-'));
  const dataDir = join(root, 'data');
  const socketDir = join(root, 'sock');
  const logFile = join(root, 'postgres.log');
  mkdirSync(socketDir);
  if (asRoot) {
    const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    chownSync(root, uid, gid);
    chownSync(socketDir, uid, gid);
    chmodSync(root, 0o700);
  }

  run('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync']);
  const host = '127.0.0.1';
  let port = 0;
  const start = () => {
    run('pg_ctl', [
      '-D', dataDir, '-l', logFile, '-w', '-t', '60',
      '-o', `-p ${port} -k ${socketDir} -c listen_addresses=${host} -c max_connections=100 -c shared_buffers=32MB -c deadlock_timeout=100ms -c fsync=off`,
      'start',
    ]);
  };
  // The port may be taken between probing and binding: try a few.
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      start();
      break;
    } catch (err) {
      if (attempt >= 4) {
        const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : '';
        rmSync(root, { recursive: true, force: true });
        throw new Error(`${(err as Error).message}\n${log}`);
      }
    }
  }

  const url = (database: string) => `postgres://postgres@${host}:${port}/${encodeURIComponent(database)}`;
  const query = async (sql: string, database = 'postgres') => {
    const client = new pg.Client({ connectionString: url(database) });
    await client.connect();
    try {
      return await client.query(sql);
    } finally {
      await client.end();
    }
  };
  let stopped = false;
  return {
    host,
    port,
    socketDir,
    user: 'postgres',
    url,
    query,
    async createDatabase(name?: string) {
      const db = name ?? `pepkeys_test_${process.pid}_${databaseCounter++}`;
      await query(`CREATE DATABASE "${db.replace(/"/g, '""')}"`);
      return url(db);
    },
    crash() {
      const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      // The postmaster and its backends all at once, as a power cut would stop them (left alone, the backends
      // notice their parent is gone only after a while, holding the shared memory a restart needs).
      const all = [pid, ...childrenOf(pid)];
      for (const p of all) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      // Wait for them to be gone (the port and shared memory free). A zombie is gone too: it has released
      // both. But PostgreSQL refuses to start while the PID in its lock files (postmaster.pid, the unix
      // socket's .lock) exists, zombie or not, and whoever reaps orphans here (PID 1) may take a second to
      // do so; the files only say who held the data directory and socket, and nobody does now, as after a
      // power cut.
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && all.some(running)) sleepSync(20);
      if (!all.some(running)) {
        for (const lock of [join(dataDir, 'postmaster.pid'), join(socketDir, `.s.PGSQL.${port}.lock`), join(socketDir, `.s.PGSQL.${port}`)]) {
          rmSync(lock, { force: true });
        }
      }
    },
    restart() {
      // After a SIGKILL, backends may linger for a moment holding the shared memory: retry briefly.
      for (let attempt = 0; ; attempt++) {
        try {
          start();
          return;
        } catch (err) {
          if (attempt >= 20) throw err;
          sleepSync(250);
        }
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        run('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
      } catch {
        // Already down (crashed and not restarted): nothing to stop.
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
}
