// Server configuration: a TOML file validated by a zod schema, then overridden by command-line flags.
// Every option is documented in docs/configuration.md; errors name the path of the offending key.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import { normalizeDomain } from '../jid/index.ts';

const hostPort = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/, 'expected HOST:PORT, e.g. 127.0.0.1:5222');
const domain = z.string().transform((d, ctx) => {
  try {
    return normalizeDomain(d);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `invalid domain: ${(e as Error).message}` });
    return z.NEVER;
  }
});

export const ConfigSchema = z.strictObject({
  /** Virtual hosts served (JID domains). */
  hosts: z.array(domain).min(1).prefault(['localhost']),
  /** Directory for the database, generated certificates and other state. */
  data_dir: z.string().prefault('./data'),
  log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).prefault('info'),
  log: z.strictObject({
    /** json: one object per line, for collectors; pretty: human-readable lines (pino-pretty), for terminals. */
    format: z.enum(['json', 'pretty']).prefault('json'),
    /** Append logs to this file instead of stdout; SIGHUP reopens it (log rotation). */
    file: z.string().min(1).optional(),
  }).prefault({}),
  http: z.strictObject({
    /**
     * HTTP listeners for /healthz, /readyz, /metrics, the WebSocket endpoint and XEP-0156 discovery. Keep
     * plain HTTP on loopback or a private network (metrics tell who is busy); "[]" turns it off.
     */
    listen: z.array(hostPort).prefault(['127.0.0.1:5280']),
    /** HTTPS (and wss) listeners, with the c2s certificate (reloaded on SIGHUP). */
    tls_listen: z.array(hostPort).prefault([]),
    /** Serve Prometheus metrics at /metrics on these listeners. */
    metrics: z.boolean().prefault(true),
    /** Serve XMPP over WebSocket (RFC 7395) at /xmpp-websocket, and its discovery (XEP-0156). */
    websocket: z.boolean().prefault(true),
    /** The WebSocket URL that host-meta advertises (behind a reverse proxy); default: from the request's Host. */
    websocket_url: z.string().regex(/^wss?:\/\/[^\s'"<>]+$/, 'expected a ws:// or wss:// URL').optional(),
    /** Origins whose pages may open the WebSocket ("https://app.example"); "*" for any. Default: same origin only. */
    allowed_origins: z.array(z.string().regex(/^(\*|https?:\/\/[^\s/]+)$/, 'expected "*" or an origin such as https://app.example')).prefault([]),
    /**
     * Addresses of reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed: the client's
     * address (per-IP limits) and whether it used https (a secure stream; see docs/web.md).
     */
    trusted_proxies: z.array(z.string()).prefault(['127.0.0.1', '::1']),
  }).prefault({}),
  c2s: z.strictObject({
    /** Plain TCP listeners offering STARTTLS (RFC 6120 §5). */
    listen: z.array(hostPort).prefault(['127.0.0.1:5222']),
    /** Direct TLS listeners (XEP-0368). */
    tls_listen: z.array(hostPort).prefault([]),
    /** Refuse authentication until STARTTLS is done. */
    require_tls: z.boolean().prefault(true),
    /** Allow SASL (including PLAIN) on unencrypted streams. For loopback tests and benchmarks only. */
    insecure_plain_auth: z.boolean().prefault(false),
    /** Close a stream that sent nothing (not even a whitespace keepalive) for this long; 0 disables. */
    idle_timeout_seconds: z.number().int().nonnegative().prefault(600),
    /** Close a stream that has not authenticated within this long. */
    preauth_timeout_seconds: z.number().int().positive().prefault(60),
  }).prefault({}),
  s2s: z.strictObject({
    /** Server-to-server listeners (RFC 6120, STARTTLS); empty = federation off. The usual one is "0.0.0.0:5269". */
    listen: z.array(hostPort).prefault([]),
    /** Static routes, remote domain → "host:port", used before DNS SRV (private networks, tests). */
    routes: z.record(domain, hostPort).prefault({}),
    /** Refuse to exchange stanzas with a peer over an unencrypted stream (both directions). */
    require_tls: z.boolean().prefault(true),
    /** Close a server-to-server connection that carried nothing for this long; 0 disables. */
    idle_timeout_seconds: z.number().int().nonnegative().prefault(300),
    /** Connecting, TLS and dialback to a remote domain must finish within this long; queued stanzas then bounce with remote-server-timeout. */
    connect_timeout_seconds: z.number().positive().prefault(30),
    /** Close an inbound server-to-server stream on which no domain has authenticated within this long. */
    preauth_timeout_seconds: z.number().positive().prefault(60),
    /** Stanzas held per remote domain while its connection is being set up; more bounce with resource-constraint. */
    max_queue: z.number().int().positive().prefault(1000),
  }).prefault({}),
  tls: z.strictObject({
    /** PEM certificate chain. When cert and key are both absent a self-signed pair is generated in data_dir/tls. */
    cert: z.string().optional(),
    key: z.string().optional(),
  }).refine((t) => (t.cert === undefined) === (t.key === undefined), 'tls.cert and tls.key must be given together').prefault({}),
  limits: z.strictObject({
    /** Largest stanza accepted; a bigger one closes the stream with policy-violation (RFC 6120 §13.12). */
    max_stanza_bytes: z.number().int().min(1024).prefault(256 * 1024),
    max_depth: z.number().int().min(4).prefault(64),
    max_attributes: z.number().int().min(4).prefault(64),
    /** Delay before answering a wrong password, slowing password guessing. */
    auth_failure_delay_ms: z.number().int().nonnegative().prefault(500),
    /** Failed authentications allowed on one stream before it is closed (RFC 6120 §6.4.5). */
    max_auth_attempts: z.number().int().min(1).max(10).prefault(5),
    /** Concurrent connections from one IP address; 0 = unlimited. */
    max_connections_per_ip: z.number().int().nonnegative().prefault(64),
    /** Concurrently bound resources of one account; more get resource-constraint (RFC 6120 §7.6.2.1). */
    max_sessions_per_account: z.number().int().positive().prefault(16),
    /** Sustained stanzas per second per session (token bucket); exceeding closes with policy-violation. 0 = unlimited. */
    stanzas_per_second: z.number().nonnegative().prefault(200),
    /** Bucket size: stanzas a session may send in a burst above the sustained rate. */
    stanza_burst: z.number().int().positive().prefault(1000),
    /** Sustained bytes per second read from one connection; above it reading pauses. 0 = unlimited. */
    bytes_per_second: z.number().int().nonnegative().prefault(1024 * 1024),
    /** Wrong passwords per IP address and per account within 15 minutes before further attempts are refused outright. */
    max_failed_logins: z.number().int().positive().prefault(30),
    /**
     * Before authentication: largest element accepted (a SASL exchange needs a few hundred bytes; a parsed
     * element costs ~40 bytes of memory per input byte, so this bounds what a stranger makes the server hold).
     */
    max_preauth_stanza_bytes: z.number().int().min(1024).prefault(4 * 1024),
    /** Before authentication: sustained bytes per second read from one connection (reading pauses above it). 0 = unlimited. */
    preauth_bytes_per_second: z.number().int().nonnegative().prefault(8 * 1024),
    /** Before authentication: sustained bytes per second read from all connections of one IP address together. 0 = unlimited. */
    preauth_bytes_per_second_per_ip: z.number().int().nonnegative().prefault(64 * 1024),
    /** Unsent output of one session above which the server stops reading (and processing) its input until it drains. */
    output_pause_bytes: z.number().int().min(16 * 1024).prefault(1024 * 1024),
    /**
     * Unsent output of one session above which it is closed with policy-violation (a reader that does not keep
     * up); one answer of the session's own may overshoot output_pause_bytes by its size regardless.
     */
    output_max_bytes: z.number().int().min(16 * 1024).prefault(32 * 1024 * 1024),
    /** A session whose output stays above output_pause_bytes without any of it being sent for this long is closed. */
    output_stall_seconds: z.number().positive().prefault(60),
    /**
     * Ceiling on the unsent output of all sessions together: a session above output_pause_bytes whose output
     * would take the total past it is closed with policy-violation.
     */
    output_total_bytes: z.number().int().min(1024 * 1024).prefault(512 * 1024 * 1024),
  }).refine((l) => l.output_max_bytes >= l.output_pause_bytes, { path: ['output_max_bytes'], message: 'must be at least output_pause_bytes' }).prefault({}),
  storage: z.strictObject({
    /** sqlite: one file, one server. postgres: a PostgreSQL database several servers may share. */
    driver: z.enum(['sqlite', 'postgres']).prefault('sqlite'),
    /** SQLite database file; defaults to data_dir/pepkeys.sqlite. */
    path: z.string().optional(),
    /**
     * SQLite durability. "full": every acknowledged write is fsynced (survives power loss). "normal": written
     * to the WAL before acknowledging, fsynced at checkpoints (survives a crash of the server, not of the OS).
     */
    sync: z.enum(['full', 'normal']).prefault('full'),
    /**
     * Where SQLite runs. "worker": on a thread of its own, beside the event loop (statements and commits
     * then cost the server's main thread only a message per batch). "main": on the server's thread.
     */
    thread: z.enum(['worker', 'main']).prefault('main'),
    /** PostgreSQL connection string (postgres://user:password@host:5432/database); required for driver "postgres". */
    url: z.string().min(1, 'storage.url must not be empty').optional(),
  }).superRefine((s, ctx) => {
    if (s.driver === 'postgres' && s.url === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        message: 'storage.url is required when storage.driver is "postgres" (a connection string, e.g. postgres://pepkeys:secret@db.example:5432/pepkeys)',
      });
    }
    if (s.driver === 'postgres' && s.path !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['path'], message: 'storage.path is for the sqlite driver; with driver "postgres" use storage.url' });
    }
  }).prefault({}),
  /** Per-module options, keyed by module name; each module validates its own table. */
  modules: z.record(z.string(), z.record(z.string(), z.unknown())).prefault({}),
  /** Modules not to load. */
  disabled_modules: z.array(z.string()).prefault([]),
  /** XEP-0198 stream management: acknowledgements and resumption of client streams. */
  stream_management: z.strictObject({
    enabled: z.boolean().prefault(true),
    /**
     * How long a session whose connection dropped without a closing tag is kept for resumption (the 'max'
     * advertised; a client may ask for less). 0 = acknowledgements only, no resumption.
     */
    resume_timeout_seconds: z.number().int().nonnegative().max(86_400).prefault(300),
    /** Stanzas sent and not yet acknowledged per session; beyond, the stream is closed with policy-violation. */
    max_unacked: z.number().int().positive().prefault(1000),
    /** Characters of those stanzas per session; beyond, the stream is closed with policy-violation. */
    max_unacked_bytes: z.number().int().min(64 * 1024).prefault(4 * 1024 * 1024),
    /** Where clients should reconnect to resume ('location' of <enabled/>, HOST:PORT); unset by default. */
    location: hostPort.optional(),
  }).prefault({}),
  /** XEP-0352 client state indication: what an inactive client's stanzas wait for. */
  csi: z.strictObject({
    enabled: z.boolean().prefault(true),
    /** Stanzas held for an inactive client; one more and all of them are sent. */
    max_held: z.number().int().positive().prefault(100),
    /** Characters held for an inactive client; beyond, all of them are sent. */
    max_held_bytes: z.number().int().min(16 * 1024).prefault(1024 * 1024),
  }).prefault({}),
});

export type ServerConfig = z.infer<typeof ConfigSchema>;

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
}

function formatIssues(err: z.ZodError, source: string): string {
  return err.issues
    .map((i) => `${source}: ${i.path.length ? i.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[') : '(root)'}: ${i.message}${hint(i)}`)
    .join('\n');
}

/** "did you mean …?" for a misspelt key, from the keys the schema knows at that place. */
function hint(issue: z.core.$ZodIssue): string {
  if (issue.code !== 'unrecognized_keys') return '';
  const known = keysAt(ConfigSchema, issue.path);
  const guesses = issue.keys.map((k) => closest(k, known)).filter((g): g is string => g !== undefined);
  return guesses.length ? ` (did you mean ${guesses.map((g) => `"${g}"`).join(', ')}?)` : '';
}

/** zod's internals this walk reads (zod 4: `_zod.def` on every schema, `shape` on objects). */
interface SchemaNode {
  _zod?: { def: { innerType?: unknown; type?: string; in?: unknown } };
  shape?: Record<string, unknown>;
}

function keysAt(schema: unknown, path: readonly PropertyKey[]): string[] {
  let s = schema as SchemaNode | undefined;
  for (const p of [...path, undefined]) {
    // Through prefault/default/optional wrappers and refinement pipes to the object underneath.
    for (;;) {
      const def = s?._zod?.def;
      const inner = def?.innerType ?? (def?.type === 'pipe' ? def.in : undefined);
      if (!inner) break;
      s = inner as SchemaNode;
    }
    const shape = s?.shape;
    if (!shape) return [];
    if (p === undefined) return Object.keys(shape);
    s = shape[String(p)] as SchemaNode | undefined;
  }
  return [];
}

/** The known key within edit distance 2 (and less than half the word) of `word`, if any. */
function closest(word: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Math.min(3, Math.ceil(word.length / 2));
  for (const k of known) {
    const d = editDistance(word, k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best;
}

/** Levenshtein distance; written here because one small function does not justify a dependency. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

export function parseConfig(raw: unknown, source = 'config'): ServerConfig {
  const r = ConfigSchema.safeParse(raw ?? {});
  if (!r.success) throw new ConfigError(formatIssues(r.error, source));
  return r.data;
}

export function loadConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`${path}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return parseToml(text);
  } catch (e) {
    // smol-toml knows where: an editor-style path:line:column, then its reason without the code excerpt.
    const { line, column } = e as { line?: number; column?: number };
    const where = line === undefined ? path : `${path}:${line}${column === undefined ? '' : `:${column}`}`;
    const reason = (e as Error).message.split('\n')[0]!.replace(/^Invalid TOML document: /, '');
    throw new ConfigError(`${where}: invalid TOML: ${reason}`);
  }
}

export interface ConfigOverrides {
  data?: string;
  hosts?: string[];
  listen?: string[];
  tlsListen?: string[];
  insecurePlainAuth?: boolean;
  logLevel?: string;
  logFormat?: string;
  logFile?: string;
  httpListen?: string[];
}

/** Loads the file (if any), applies command-line overrides, validates the result. */
export function resolveConfig(file: string | undefined, o: ConfigOverrides = {}): ServerConfig {
  const raw = (file ? loadConfigFile(file) : {}) as Record<string, any>;
  const merged: Record<string, any> = { ...raw, c2s: { ...(raw.c2s ?? {}) }, log: { ...(raw.log ?? {}) }, http: { ...(raw.http ?? {}) } };
  if (o.data !== undefined) merged.data_dir = o.data;
  if (o.hosts?.length) merged.hosts = o.hosts;
  if (o.listen?.length) merged.c2s.listen = o.listen;
  if (o.tlsListen?.length) merged.c2s.tls_listen = o.tlsListen;
  if (o.insecurePlainAuth) {
    merged.c2s.insecure_plain_auth = true;
    merged.c2s.require_tls = false;
  }
  if (o.logLevel !== undefined) merged.log_level = o.logLevel;
  if (o.logFormat !== undefined) merged.log.format = o.logFormat;
  if (o.logFile !== undefined) merged.log.file = o.logFile;
  if (o.httpListen?.length) merged.http.listen = o.httpListen;
  return parseConfig(merged, file ?? 'config');
}

export function storagePath(config: ServerConfig): string {
  return resolve(config.storage.path ?? resolve(config.data_dir, 'pepkeys.sqlite'));
}

export function parseHostPort(s: string): { host: string; port: number } {
  const i = s.lastIndexOf(':');
  let host = s.slice(0, i);
  if (host.startsWith('[')) host = host.slice(1, -1);
  return { host, port: Number(s.slice(i + 1)) };
}
