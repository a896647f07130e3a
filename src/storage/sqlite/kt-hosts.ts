// The modules the key-log process runs beside the log (storage/log-host.ts), by the number the event loop gave
// each: started by importing their file, called in the order the calls arrive, closed before the files are.
import type { KtMapStore } from '../kt-map.ts';
import type { LogHostContext, StartHosted } from '../log-host.ts';
import type { TransparencyStore } from '../types.ts';

interface Hosted {
  call?: (message: unknown) => Promise<unknown>;
  close: (() => Promise<void>)[];
}

export class LogHosts {
  private readonly hosted = new Map<number, Hosted>();

  constructor(
    private readonly stores: () => { log: TransparencyStore; map: KtMapStore },
    private readonly post: (host: number, message: unknown) => void,
  ) {}

  async start(host: number, url: string, init: unknown): Promise<void> {
    if (this.hosted.has(host)) throw new Error(`log host ${host} is already started`);
    const mod = (await import(url)) as { startHosted?: StartHosted };
    if (typeof mod.startHosted !== 'function') throw new Error(`${url} exports no startHosted`);
    const entry: Hosted = { close: [] };
    this.hosted.set(host, entry);
    const { log, map } = this.stores();
    const context: LogHostContext = {
      log,
      map,
      init,
      post: (message) => this.post(host, message),
      onCall: (handler) => {
        entry.call = handler;
      },
      onClose: (handler) => void entry.close.push(handler),
    };
    await mod.startHosted(context);
  }

  call(host: number, message: unknown): Promise<unknown> {
    const call = this.hosted.get(host)?.call;
    if (!call) return Promise.reject(new Error(`log host ${host} takes no calls`));
    return call(message);
  }

  /** Runs every module's close handlers; one that fails does not keep the others (or the files) open. */
  async close(): Promise<void> {
    const all = [...this.hosted.values()].flatMap((h) => h.close);
    this.hosted.clear();
    await Promise.allSettled(all.map((close) => close()));
  }
}
