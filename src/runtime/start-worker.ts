import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts the worker module `name` (without extension) beside the module at `callerUrl`. The compiled build
 * starts NAME.js. Sources run through tsx (tests, `npm run pepkeys`) start NAME.ts, and a worker thread does
 * not inherit the loader hooks `--import tsx` installed on this one (Node 20), so a two-line bootstrap
 * registers tsx in the worker first.
 */
export function startWorker(callerUrl: string, name: string, options: WorkerOptions = {}): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, callerUrl), options);
  const tsx = import.meta.resolve('tsx/esm/api');
  const worker = new URL(`./${name}.ts`, callerUrl).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(worker)}); })`;
  return new Worker(bootstrap, { ...options, eval: true });
}
