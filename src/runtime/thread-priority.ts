import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
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

/**
 * Puts every thread of this process under Linux's SCHED_IDLE policy, through util-linux's chrt (Node has no
 * sched_setscheduler): such threads run only on a core no other thread wants. A nice value alone is not
 * enough on a machine with fewer cores than busy threads: the kernel still places the server's own helper
 * threads (V8's GC and compiler threads) on the event loop's core when the other core runs nice-19 work, and
 * they preempt the event loop; a core running only SCHED_IDLE threads counts as free, so they go there
 * (docs/benchmarks.md "Who waits for whom"). Threads started later inherit the policy. Returns whether it
 * applied (false elsewhere, or without chrt: the nice value then stays the only lowering).
 */
export function idleProcessPolicy(): boolean {
  if (process.platform !== 'linux') return false;
  try {
    execFileSync('chrt', ['--idle', '--all-tasks', '--pid', '0', String(process.pid)], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

/** The scheduling policy of a thread (Linux /proc: 0 normal, 5 SCHED_IDLE), undefined elsewhere. */
export function threadPolicy(pid: number, tid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[38]);
  } catch {
    return undefined;
  }
}
