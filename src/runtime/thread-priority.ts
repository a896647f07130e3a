import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

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
