// Loads feature modules (in the manner of Prosody's mod_*): each declares its name, the modules it needs
// and an options schema, and gets a scoped API in setup(). Modules talk to the core and to each other
// only through this API: hooks, IQ handlers, disco contributions and named services.
import type { z } from 'zod';
import type { Element } from '../../xml/index.ts';
import type { Jid } from '../../jid/index.ts';
import type { Storage } from '../../storage/types.ts';
import type { SessionDirectory } from '../../cluster/index.ts';
import type { DiscoIdentity } from '../../protocol/xep0030.ts';
import type { HookHandler } from './hooks.ts';
import type { ServerEvents } from './events.ts';
import type { IqHandler, IqHandlerOptions, IqScope } from './iq-handlers.ts';
import type { C2sSession } from './c2s-session.ts';
import type { Logger } from './logger.ts';

export interface ModuleApi<O = Record<string, unknown>> {
  readonly name: string;
  readonly options: O;
  readonly logger: Logger;
  readonly storage: Storage;
  readonly sessions: SessionDirectory;
  /** Served domains. */
  readonly hosts: readonly string[];
  isLocalDomain(domain: string): boolean;
  hook<K extends keyof ServerEvents>(name: K, handler: HookHandler<ServerEvents[K]>, priority?: number): void;
  fire<K extends keyof ServerEvents>(name: K, event: ServerEvents[K]): Promise<boolean>;
  /** Answers IQ get/set with this payload namespace addressed to a served domain or to an account. */
  handleIq(scope: IqScope, ns: string, handler: IqHandler, options?: IqHandlerOptions): void;
  /** Adds a disco#info feature advertised by served domains or by accounts (XEP-0030). */
  addFeature(scope: IqScope, feature: string): void;
  addIdentity(scope: IqScope, identity: DiscoIdentity): void;
  /** Adds an element to the stream features offered after authentication. */
  addStreamFeature(build: (session: C2sSession) => Element | undefined): void;
  /** Routes a stanza originated by the server (its 'from' must be set) as if it arrived from that address. */
  route(stanza: Element): Promise<void>;
  /** Sends an IQ from a served domain and resolves with the answer (rejects with a StanzaError). */
  sendIq(iq: Element, timeoutMs?: number): Promise<Element>;
  /** Whether a local account exists (bare JID). */
  accountExists(jid: Jid): Promise<boolean>;
  /** Publishes a service object for other modules under a name. */
  provide<T>(name: string, service: T): void;
  /** A service provided by a module this one requires. */
  use<T>(name: string): T;
  /** Called when the server stops. */
  onStop(fn: () => void | Promise<void>): void;
}

export interface ModuleDefinition<O = any> {
  name: string;
  /** Modules that must be loaded before this one. */
  requires?: string[];
  /** Schema for this module's table in the config file ([modules.NAME]). */
  options?: z.ZodType<O>;
  setup(api: ModuleApi<O>): void | Promise<void>;
}

export function defineModule<O = Record<string, unknown>>(def: ModuleDefinition<O>): ModuleDefinition<O> {
  return def;
}

/** Orders modules so that each comes after the ones it requires; fails on missing or cyclic requirements. */
export function orderModules(mods: ModuleDefinition[]): ModuleDefinition[] {
  const byName = new Map(mods.map((m) => [m.name, m]));
  const out: ModuleDefinition[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (m: ModuleDefinition, path: string[]): void => {
    const s = state.get(m.name);
    if (s === 'done') return;
    if (s === 'visiting') throw new Error(`module requirements form a cycle: ${[...path, m.name].join(' -> ')}`);
    state.set(m.name, 'visiting');
    for (const r of m.requires ?? []) {
      const dep = byName.get(r);
      if (!dep) throw new Error(`module ${m.name} requires module ${r}, which is not loaded`);
      visit(dep, [...path, m.name]);
    }
    state.set(m.name, 'done');
    out.push(m);
  };
  for (const m of mods) visit(m, []);
  return out;
}
