// Connection flags shared by the networked `key` commands and the client session they open.
import type { Command } from 'commander';
import { Option } from 'commander';
import { readFileSync } from 'node:fs';
import { parseJid, type Jid } from '../../jid/index.ts';
import { XmppClient, KeysClient, ClientError, KeyOpError, IqError, type ClientOptions, type DirectAccessPolicy } from '../../client/index.ts';
import { KeyError, type Pubkey, type TrustStore } from '../../keys/index.ts';
import { CliError } from '../errors.ts';
import { readPassword } from '../password-input.ts';
import { KeyHome, defaultHome } from './home.ts';
import { passphraseSource, type PassphraseFlags } from './passphrase.ts';
import { EXIT_BY_KEY_OP_KIND, EXIT_NOT_FOUND, EXIT_REFUSED, exitCodeOfClientError } from './exit-codes.ts';
import { keyOpErrorSentence } from './presenter.ts';
import { logCheck, type LogCheck } from './verify-log.ts';
import { mapCheck, type MapCheck, type MapChecked } from './verify-map.ts';
import { withPendingItems, type PendingContext, type PendingItem } from './map-pending.ts';
import { KtMonitorFile } from '../kt-monitor-file.ts';
import type { CliIo } from '../io.ts';

export interface CommonFlags extends PassphraseFlags {
  home?: string;
  json?: boolean;
  long?: boolean;
}

export interface ConnectFlags extends CommonFlags {
  jid?: string;
  password?: string;
  server?: string;
  insecure?: boolean;
  ca?: string;
  timeout?: string;
}

export function addCommonOptions(cmd: Command): Command {
  return cmd
    .option('--home <dir>', 'where keys and the trust store live (default ~/.pepkeys, or $PEPKEYS_HOME)')
    .option('--json', 'machine-readable JSON on stdout instead of a table');
}

/** For commands that print tables of keys. */
export function addLongOption(cmd: Command): Command {
  return cmd.option('--long', 'show whole fingerprints and timestamps in tables (default: 16 hex digits and dates)');
}

export function addJidOption(cmd: Command): Command {
  return cmd.option('--jid <jid>', 'your account, e.g. juliet@capulet.lit (or $PEPKEYS_JID)');
}

export function addConnectOptions(cmd: Command): Command {
  return addJidOption(cmd)
    .option('--password <password>', 'account password (prefer $PEPKEYS_PASSWORD or the prompt: arguments show in `ps`)')
    .option('--server <host:port>', "server to connect to (default: the JID's domain, port 5222)")
    .option('--ca <file>', 'PEM certificate or CA the server certificate must chain to (pins a self-signed server)')
    .option('--insecure', 'accept any TLS certificate, allow a server without TLS, and PLAIN without TLS (local tests only)')
    .addOption(new Option('--timeout <seconds>', 'bound on connecting and on each request').default('15'));
}

export function homeOf(flags: CommonFlags & PassphraseFlags, io: CliIo): KeyHome {
  return new KeyHome(flags.home ?? defaultHome(io.env), passphraseSource(io, flags));
}

export function accountJid(flags: { jid?: string }, env: CliIo['env']): Jid {
  const s = flags.jid ?? env.PEPKEYS_JID;
  if (!s) throw new CliError('which account? give --jid (or set PEPKEYS_JID)');
  const j = parseJid(s);
  if (!j.local) throw new CliError(`--jid ${s} is not an account JID (it needs a localpart)`);
  return j;
}

export function parseServer(s: string | undefined): { host?: string; port?: number } {
  if (!s) return {};
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(s);
  if (!m) throw new CliError(`--server ${s}: expected HOST:PORT, e.g. 127.0.0.1:5222`);
  const port = m[2] === undefined ? 5222 : Number(m[2]);
  if (!(port > 0 && port < 65536)) throw new CliError(`--server ${s}: invalid port`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

export function timeoutMs(flags: ConnectFlags): number {
  const n = Number(flags.timeout ?? '15');
  if (!(n > 0)) throw new CliError(`--timeout ${flags.timeout}: expected a positive number of seconds`);
  return n * 1000;
}

export interface Session {
  jid: Jid;
  client: XmppClient;
  keys: KeysClient;
  trust: TrustStore;
  home: KeyHome;
  /** With `verifyLog`: the keys the transparency log backed. */
  log?: LogCheck;
  /** With `verifyMap`: the keys checked against the verifiable map. */
  map?: MapCheck;
  close(): Promise<void>;
}

export interface SessionOptions {
  directAccess?: DirectAccessPolicy;
  /** The key answered on direct requests. */
  ownKeyLoader?: (home: KeyHome, bare: string) => Promise<Pubkey | undefined>;
  /** Admit only keys the domain's transparency log backs (`--verify-log`, src/cli/key/verify-log.ts). */
  verifyLog?: boolean;
  /**
   * Also check each key against the domain's verifiable map (`--verify-map`, implies the log check; verify-map.ts).
   * `onPending` gets each key item left "not yet in the map" (map-pending.ts), before the key is recorded.
   */
  verifyMap?: { strict: boolean; onPending?: (at: PendingContext, p: PendingItem, checked: MapChecked) => Promise<void> };
}

export async function openSession(io: CliIo, flags: ConnectFlags, opts: SessionOptions = {}): Promise<Session> {
  const jid = accountJid(flags, io.env);
  const home = homeOf(flags, io);
  const password = flags.password ?? (io.env.PEPKEYS_PASSWORD || undefined) ?? (await readPassword({ prompt: `Password for ${jid.bare}: `, stdin: io.stdin, stderr: io.stderr }));
  const t = timeoutMs(flags);
  const co: ClientOptions = { jid: jid.full, password, ...parseServer(flags.server), timeoutMs: t, iqTimeoutMs: t };
  if (flags.insecure) {
    co.tls = { rejectUnauthorized: false };
    co.requireTls = false;
    co.allowPlainWithoutTls = true;
  } else if (flags.ca) {
    co.tls = { ca: readFileSync(flags.ca, 'utf8') };
  }
  const trust = await home.openTrust();
  let client: XmppClient;
  try {
    client = await XmppClient.connect(co);
  } catch (e) {
    await trust.close();
    throw e;
  }
  const own = opts.ownKeyLoader ? await opts.ownKeyLoader(home, jid.bare) : undefined;
  const log = opts.verifyLog || opts.verifyMap ? logCheck(client, home.dir, t) : undefined;
  const map = opts.verifyMap && log ? mapCheck(client, home.dir, t, log, opts.verifyMap.strict) : undefined;
  const onPending = opts.verifyMap?.onPending;
  const admit = map && onPending ? withPendingItems(map, (p, c) => onPending({ client, homeDir: home.dir, timeoutMs: t, trust }, p, c)) : (map?.admit ?? log?.admit);
  const keys = new KeysClient(client, { trust, timeoutMs: t, ...(opts.directAccess ? { directAccess: opts.directAccess } : {}), ownKey: () => own, ...(admit ? { admit } : {}),
    // Every own key write is recorded for `key monitor`, which alerts on the account's log events none explains.
    beforePublish: (w) => KtMonitorFile.inHome(home.dir).recordOwn(jid.bare, w),
  });
  return {
    jid: client.jid, client, keys, trust, home, ...(log ? { log } : {}), ...(map ? { map } : {}),
    async close() {
      await client.close().catch(() => {});
      await trust.close();
    },
  };
}

/** Runs `fn` with a session and always closes it. */
export async function withSession<T>(io: CliIo, flags: ConnectFlags, fn: (s: Session) => Promise<T>, opts: SessionOptions = {}): Promise<T> {
  const s = await openSession(io, flags, opts);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

/** Maps client and key errors onto CliErrors with the `key` exit codes and one sentence. */
export function toCliError(e: unknown): unknown {
  if (e instanceof CliError) return e;
  if (e instanceof ClientError) return new CliError(e.message, exitCodeOfClientError(e.code));
  if (e instanceof KeyOpError) return new CliError(keyOpErrorSentence(e), EXIT_BY_KEY_OP_KIND[e.kind]);
  if (e instanceof IqError) return new CliError(e.message, EXIT_REFUSED);
  if (e instanceof KeyError) return new CliError(e.message, e.code === 'trust-conflict' ? EXIT_NOT_FOUND : 1);
  return e;
}

/** Wraps a commander action so every failure leaves as a CliError with our exit codes. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      throw toCliError(e);
    }
  };
}
