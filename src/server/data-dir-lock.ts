// One server per data directory. Two servers on one SQLite file each keep their own caches (node
// configuration, access decisions), so an access model tightened through one was still served by the other:
// an access-control bypass, not only a performance problem. A pid file taken with O_EXCL is the lock; one left
// by a server that died (kill -9, power loss) names a pid that no longer runs and is taken over.
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const LOCK_FILE = 'pepkeys.pid';

export class DataDirInUseError extends Error {
  readonly code = 'DATA_DIR_IN_USE';
  constructor(dir: string, pid: number) {
    super(`data directory ${dir} is in use by another pepkeys server (pid ${pid}); stop it first, or give this one its own --data`);
  }
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the data directory's lock (creating the directory 0700 if missing); `release` gives it back. */
export function lockDataDir(dir: string): { release(): void } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx', mode: 0o644 });
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          try {
            if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
          } catch {
            // Already gone: nothing to give back.
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = lockHolder(dir);
    if (pid !== undefined) throw new DataDirInUseError(dir, pid);
    // Stale: its server is gone. Remove it and try again (another starter may win the race: then it is theirs).
    try {
      unlinkSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  throw new Error(`could not take the lock ${path}; another server is starting on the same data directory`);
}

/** The pid of the server holding the data directory's lock, if one runs (a stale pid file counts as free). */
export function lockHolder(dir: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, LOCK_FILE), 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number.parseInt(text, 10);
  return Number.isInteger(pid) && pid > 0 && running(pid) ? pid : undefined;
}
