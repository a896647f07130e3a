// Background work (the key log's appends, the verifiable map's VRF) in a child process of its own, every
// thread of which runs at a lower OS priority than the server's.
//
// Why not a worker thread: a worker's isolate hands its garbage collections and compilations to the V8
// platform threads it shares with the event loop, and those run at the server's priority whatever the
// worker's own thread does. Measured on the 2-core benchmark machine (docs/benchmarks.md "Who waits for
// whom"): with the key log and the VRF on worker threads at nice 10 and 19, the event loop was preempted
// ~1,000 times in 4 s of publishing, ~700 of them by those platform threads, and waited 10–25 µs per publish
// for its core. A child process lowers all of its threads, platform threads included, so none of its work
// comes before the server's.
//
// The two sides talk over Node's IPC channel with the 'advanced' serialization (the structured clone of
// worker messages: typed arrays, Maps, bigints; a view is sent as its own bytes, not its whole buffer).
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { idleProcessPolicy, lowerProcessPriority } from './thread-priority.ts';

export interface BackgroundOptions {
  /** Handed to the child (background-process.ts parentChannel().data): JSON, so strings and numbers. */
  data?: unknown;
  /** The child's nice value on Linux (every thread of it); elsewhere ignored. */
  priority: number;
  /**
   * Linux: run every thread of the child under SCHED_IDLE as well (runtime/thread-priority.ts
   * idleProcessPolicy), for work that may wait as long as any other thread wants a core.
   */
  idle?: boolean;
}

/** The parent's handle on a background process: the shape of a Worker's, which it replaces. */
export class BackgroundProcess extends EventEmitter {
  private readonly exited: Promise<void>;

  constructor(private readonly child: ChildProcess) {
    super();
    child.on('message', (m) => this.emit('message', m));
    // A failed send or spawn; the exit event follows when the child is gone.
    child.on('error', (err) => this.emit('error', err));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        resolve();
        this.emit('exit', code ?? (signal ? 1 : 0), signal);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  postMessage(message: unknown): void {
    // A child that is gone reports it through 'error' (ERR_IPC_CHANNEL_CLOSED), as a failed send does.
    this.child.send(message as never, (err) => {
      if (err) this.emit('error', err);
    });
  }

  /** Whether the child and its channel keep this process's event loop alive (like Worker#ref/unref). */
  ref(): void {
    this.child.ref();
    this.child.channel?.ref();
  }

  unref(): void {
    this.child.unref();
    this.child.channel?.unref();
  }

  /** Stops the child (SIGTERM) and resolves once it has exited. */
  terminate(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      // Whoever waits for the exit keeps this process alive until it comes.
      this.child.ref();
      this.child.kill();
    }
    return this.exited;
  }
}

/**
 * Starts the module `name` (without extension) beside the module at `callerUrl` as a background process.
 * The compiled build starts NAME.js; sources run through tsx (tests, `npm run pepkeys`) start NAME.ts with tsx
 * registered in the child. The parent's own Node flags (`--test`, inspector, profiler) are not passed on.
 */
export function startBackgroundProcess(callerUrl: string, name: string, options: BackgroundOptions): BackgroundProcess {
  const ts = callerUrl.endsWith('.ts');
  const file = fileURLToPath(new URL(`./${name}.${ts ? 'ts' : 'js'}`, callerUrl));
  // PEPKEYS_BACKGROUND_NODE_ARGS: Node flags for the background processes alone, space-separated (profiling:
  // `--cpu-prof --cpu-prof-dir=DIR`, which NODE_OPTIONS does not accept; docs/benchmarks.md).
  const extra = process.env.PEPKEYS_BACKGROUND_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const execArgv = [...(ts ? ['--import', import.meta.resolve('tsx')] : []), ...extra];
  const child = fork(file, [JSON.stringify({ data: options.data ?? null, priority: options.priority, idle: options.idle ?? false })], {
    execArgv,
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new BackgroundProcess(child);
}

/** The child's side: what the parent sent at the start, and the channel to it. */
export interface ParentChannel<In, Out> {
  data: unknown;
  postMessage(message: Out): void;
  onMessage(handler: (message: In) => void): void;
  /**
   * Ends this process with `code` once `last` (if any) has been handed to the channel: a plain exit could
   * lose a message still queued (a send is asynchronous). Messages arriving meanwhile are ignored.
   */
  exit(last: Out | undefined, code: number): void;
  /**
   * Exits at once when the parent is gone. The channel's end is noticed only between tasks, so a long
   * synchronous run (a drain of many records) asks here between its steps: an orphan must not go on writing
   * files a restarted server is already using.
   */
  exitIfOrphaned(): void;
}

/**
 * Call once, first thing, in a module started by startBackgroundProcess: lowers this process's priority and
 * connects to the parent. A parent that goes away (a stop, a crash, kill -9) closes the channel, and this
 * process exits at once: what it had not done yet is the next process's to do (its callers keep their work
 * durable until it is done, e.g. the key log's journal).
 */
export function parentChannel<In, Out>(): ParentChannel<In, Out> {
  const send = process.send?.bind(process);
  if (!send) throw new Error('this module runs as a background process only (runtime/background-process.ts)');
  const { data, priority, idle } = JSON.parse(process.argv[2] ?? '{}') as { data: unknown; priority: number; idle?: boolean };
  lowerProcessPriority(priority);
  if (idle) idleProcessPolicy();
  let exiting = false;
  const parent = process.ppid;
  process.on('disconnect', () => process.exit(0));
  return {
    data,
    postMessage: (message) => {
      if (!exiting) send(message as never);
    },
    onMessage: (handler) => {
      process.on('message', (m) => {
        if (!exiting) handler(m as In);
      });
    },
    exit: (last, code) => {
      if (exiting) return;
      exiting = true;
      if (last === undefined || !process.connected) process.exit(code);
      send(last as never, () => process.exit(code));
    },
    exitIfOrphaned: () => {
      // process.ppid asks the kernel each time: a dead parent's children are adopted by another process.
      if (process.ppid !== parent || !process.connected) process.exit(0);
    },
  };
}
