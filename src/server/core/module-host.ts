// Loads feature modules (in the manner of Prosody's mod_*): each declares its name, the modules it needs,
// the services it provides, the events it fires and an options schema, and gets a scoped API in setup().
// Modules talk to the core and to each other only through this API: hooks, IQ handlers, disco
// contributions and typed services (in the manner of Fastify's decorators and dependency checks).
import type { z } from 'zod';
import type { Element } from '../../xml/index.ts';
import type { Jid } from '../../jid/index.ts';
import type { Storage } from '../../storage/types.ts';
import type { ClusterCoherence, ModuleSession, SessionDirectory } from '../../cluster/index.ts';
import type { DiscoIdentity } from '../../protocol/xep0030.ts';
import type { HookHandler } from './hooks.ts';
import type { ServerEvents } from './events.ts';
import type { IqHandler, IqHandlerOptions, IqScope } from './iq-handlers.ts';
import type { Logger } from './logger.ts';

/** Names a service with its type: `api.provide(key, impl)` and `api.use(key)` agree on it. */
export interface ServiceKey<T> {
  readonly name: string;
  /** Never set: carries T for the type checker. */
  readonly type?: T;
}

export function serviceKey<T>(name: string): ServiceKey<T> {
  return { name };
}

/** The features and identities of a served domain, or of accounts, registered by all modules. */
export interface DiscoRegistry {
  features: Record<IqScope, Set<string>>;
  identities: Record<IqScope, DiscoIdentity[]>;
}

/** Provided by the core itself (every module may use it): read by the disco module. */
export const DiscoRegistryService = serviceKey<DiscoRegistry>('disco-registry');

export interface ModuleApi<O = Record<string, unknown>, F extends keyof ServerEvents = never> {
  readonly name: string;
  readonly options: O;
  readonly logger: Logger;
  readonly storage: Storage;
  readonly sessions: SessionDirectory;
  /** Cache coherence across cluster nodes: invalidate what other nodes may have cached (cluster/coherence.ts). */
  readonly cluster: ClusterCoherence;
  /** Served domains. */
  readonly hosts: readonly string[];
  isLocalDomain(domain: string): boolean;
  hook<K extends keyof ServerEvents>(name: K, handler: HookHandler<ServerEvents[K]>, priority?: number): void;
  /** Fires one of the events this module declared in `fires`. */
  fire<K extends F>(name: K, event: ServerEvents[K]): Promise<boolean>;
  /** Answers IQ get/set with this payload namespace addressed to a served domain or to an account. */
  handleIq(scope: IqScope, ns: string, handler: IqHandler, options?: IqHandlerOptions): void;
  /** Adds a disco#info feature advertised by served domains or by accounts (XEP-0030). */
  addFeature(scope: IqScope, feature: string): void;
  addIdentity(scope: IqScope, identity: DiscoIdentity): void;
  /** Adds an element to the stream features offered after authentication. */
  addStreamFeature(build: (session: ModuleSession) => Element | undefined): void;
  /** Routes a stanza originated by the server (its 'from' must be set) as if it arrived from that address. */
  route(stanza: Element): Promise<void>;
  /** Sends an IQ from a served domain and resolves with the answer (rejects with a StanzaError). */
  sendIq(iq: Element, timeoutMs?: number): Promise<Element>;
  /** Whether a local account exists (bare JID). */
  accountExists(jid: Jid): Promise<boolean>;
  /** Publishes a service this module declared in `provides`. */
  provide<T>(key: ServiceKey<T>, service: NoInfer<T>): void;
  /** A service provided by the core or by a module this one requires. */
  use<T>(key: ServiceKey<T>): T;
  /** Called when the server stops. */
  onStop(fn: () => void | Promise<void>): void;
  /** Adds a command to the local admin socket (`pepkeys` operator commands); `args` are checked by `schema`. */
  adminCommand<S extends z.ZodType>(name: string, schema: S, handler: (args: z.output<S>) => unknown | Promise<unknown>): void;
}

export interface ModuleDefinition<O = any, F extends keyof ServerEvents = any> {
  name: string;
  /** Modules that must be loaded before this one. */
  requires?: readonly string[];
  /** Services this module provides (each must be provided during setup, by this module only). */
  provides?: readonly ServiceKey<any>[];
  /** Events this module fires (their payload types augment ServerEvents in the module's file). */
  fires?: readonly F[];
  /** Schema for this module's table in the config file ([modules.NAME]). */
  options?: z.ZodType<O>;
  setup(api: ModuleApi<O, F>): void | Promise<void>;
}

export function defineModule<O = Record<string, unknown>, const F extends keyof ServerEvents = never>(def: ModuleDefinition<O, F>): ModuleDefinition<O, F> {
  return def;
}

/**
 * Which module provides each declared service; fails when two modules declare the same one or one names
 * the core's own.
 */
export function serviceProviders(mods: readonly ModuleDefinition[]): Map<string, string> {
  const out = new Map<string, string>([[DiscoRegistryService.name, 'core']]);
  for (const m of mods) {
    for (const key of m.provides ?? []) {
      const other = out.get(key.name);
      if (other !== undefined) throw new Error(`service ${key.name} is provided by both ${other} and ${m.name}`);
      out.set(key.name, m.name);
    }
  }
  return out;
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
