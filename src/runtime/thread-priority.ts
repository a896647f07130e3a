import { readdirSync, readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** The lowest scheduling priority (nice value) on Linux. */
export const LOWEST_PRIORITY = 19;

/**
 * Lowers the calling thread's OS priority, for a worker thread doing background work. Linux schedules threads
 * one by one: setpriority(PRIO_PROCESS, tid) changes only that thread, and lowering one's own priority needs
 * no privilege. The thread id comes from /proc/thread-self (→ PID/task/TID). Elsewhere (no /proc, or
 * priorities per process) it does nothing: niceing the whole process would slow the server too.
 * Returns the thread id it lowered, or null.
 */
export function lowerThreadPriority(priority = LOWEST_PRIORITY): number | null {
  if (process.platform !== 'linux') return null;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return null;
    setPriority(tid, priority);
    return tid;
  } catch {
    return null;
  }
}

/**
 * Lowers every thread of this process to `priority` (Linux: priorities are per thread, and threads started
 * later inherit their creator's): for a process that only does background work (background-process.ts),
 * whose V8 platform threads (GC, compilation) must not come before the server's either. Never raises a
 * thread that is already lower. Returns how many threads it lowered (0 elsewhere).
 */
export function lowerProcessPriority(priority = LOWEST_PRIORITY): number {
  if (process.platform !== 'linux') return 0;
  let lowered = 0;
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return 0;
  }
  for (const tid of tids) {
    try {
      if (getPriority(Number(tid)) >= priority) continue;
      setPriority(Number(tid), priority);
      lowered++;
    } catch {
      // The thread ended meanwhile.
    }
  }
  return lowered;
}
