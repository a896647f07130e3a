// `pepkeys user add|del|passwd|list|unlock`: account administration. `add` and `list` work straight on the
// database file (SQLite in WAL mode lets them run beside a live server, which reads credentials at every
// login). `del` and `passwd` go through the running server's admin socket when there is one, so that it
// ends the account's sessions and drops what it keeps in memory; on the database when no server runs.
// `unlock` needs the server: lockouts live in its memory.
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { JidError, parseJid } from '../jid/index.ts';
import { storagePath, type ServerConfig } from '../server/config.ts';
import { deriveCredentials, openStorage } from '../server/index.ts';
import { AccountExistsError, type Storage } from '../storage/types.ts';
import { addConfigOptions, configFrom, type ConfigFlags } from './common.ts';
import { CliError } from './errors.ts';
import { readPassword } from './password-input.ts';
import { adminRequest, adminRequestIfRunning } from './admin-client.ts';
import type { CliContext, CliIo } from './io.ts';

interface PasswordFlags extends ConfigFlags {
  password?: string;
  /** `user add` only: make a new database when there is none. */
  create?: boolean;
}

export function userCommand(ctx: CliContext): Command {
  const { io } = ctx;
  const user = new Command('user').description('manage accounts (works while the server runs)');

  passwordCommand(io, user, 'add', 'create an account', 'bare JID of the account, e.g. alice@localhost', 'the password', {
    create: true,
    prompt: (jid) => `Password for ${jid}: `,
    // Checked before prompting too, so the operator does not type a password for nothing; create() still
    // refuses a duplicate that appears in between.
    check: async (s, jid) => {
      if (await s.accounts.get(jid)) throw new AccountExistsError(jid);
    },
    apply: async (s, jid, credentials) => {
      await s.accounts.create(jid, credentials);
      return `created ${jid}`;
    },
  });

  addConfigOptions(user.command('del').alias('delete').description('delete an account with everything it owns (roster, offline messages, PEP nodes)').argument('<jid>', 'bare JID'))
    .action(async (jidArg: string, flags: ConfigFlags) => {
      const { config, jid } = prepare(jidArg, flags, io);
      const running = await adminRequestIfRunning<{ sessions: number }>(config, 'user.del', { jid });
      if (!running) {
        await withStorage(config, false, io, async (s) => {
          if (!(await s.accounts.delete(jid))) throw new CliError(`no account ${jid}`);
        });
      }
      io.stdout.write(`deleted ${jid}${sessionsEnded(running?.result.sessions)}\n`);
    });

  passwordCommand(io, user, 'passwd', "change an account's password", 'bare JID', 'the new password', {
    create: false,
    prompt: (jid) => `New password for ${jid}: `,
    // Checked before prompting so a typo in the JID fails before the operator types a password.
    check: async (s, jid) => {
      if (!(await s.accounts.get(jid))) throw new CliError(`no account ${jid}`);
    },
    apply: async (s, jid, credentials, config) => {
      const running = await adminRequestIfRunning<{ sessions: number }>(config, 'user.passwd', { jid, credentials });
      if (!running && !(await s.accounts.setCredentials(jid, credentials))) throw new CliError(`no account ${jid}`);
      return `password changed for ${jid}${sessionsEnded(running?.result.sessions)}`;
    },
  });

  addConfigOptions(user.command('unlock').description('end a login lockout early (the server must be running)').argument('<target>', 'a bare JID or an IP address'))
    .action(async (target: string, flags: ConfigFlags) => {
      const r = await adminRequest<{ target: string; failures: number }>(configFrom(flags), 'user.unlock', { target });
      io.stdout.write(`unlocked ${r.target} (${r.failures} recent failed login${r.failures === 1 ? '' : 's'} forgotten)\n`);
    });

  addConfigOptions(user.command('list').alias('ls').description('print account JIDs, one per line, sorted').argument('[domain]', 'only accounts of this domain'))
    .action(async (domainArg: string | undefined, flags: ConfigFlags) => {
      const config = configFrom(flags);
      const domain = domainArg === undefined ? undefined : parseDomain(domainArg);
      const jids = await withStorage(config, false, io, (s) => s.accounts.list(domain));
      if (jids.length) io.stdout.write(`${jids.join('\n')}\n`);
    });

  return user;
}

interface PasswordStep {
  /** Only `add` may create the database, and only with --create. */
  create: boolean;
  prompt: (jid: string) => string;
  check: (s: Storage, jid: string) => Promise<void>;
  /** Returns what to print. */
  apply: (s: Storage, jid: string, credentials: ReturnType<typeof deriveCredentials>, config: ServerConfig) => Promise<string>;
}

/** `user add` and `user passwd`: a password from --password, the terminal or stdin, stored for one account. */
function passwordCommand(io: CliIo, user: Command, name: string, what: string, jidHelp: string, passwordHelp: string, step: PasswordStep): void {
  const cmd = addConfigOptions(user.command(name).description(`${what}; without --password, prompts on a terminal or reads the first line of stdin`).argument('<jid>', jidHelp))
    .option('-p, --password <password>', `${passwordHelp} (visible to other local users in \`ps\`; prefer the prompt or stdin)`);
  if (step.create) cmd.option('--create', 'make a new database if the data directory has none (the server makes one on its first start)');
  cmd.action(async (jidArg: string, flags: PasswordFlags) => {
    const { config, jid } = prepare(jidArg, flags, io);
    const done = await withStorage(config, step.create && flags.create === true, io, async (s) => {
      await step.check(s, jid);
      const password = flags.password ?? (await readPassword({ prompt: step.prompt(jid), confirm: true, stdin: io.stdin, stderr: io.stderr }));
      if (password.length === 0) throw new CliError('empty password');
      return step.apply(s, jid, deriveCredentials(password), config);
    });
    io.stdout.write(`${done}\n`);
  });
}

/** Validates the JID and warns (does not refuse) when its domain is not one the configuration serves. */
function prepare(jidArg: string, flags: ConfigFlags, io: CliIo): { config: ServerConfig; jid: string } {
  const config = configFrom(flags);
  const jid = parseJidArg(jidArg);
  if (!jid.local) throw new CliError(`invalid JID '${jidArg}': an account JID needs a localpart (user@domain)`);
  if (jid.resource) throw new CliError(`invalid JID '${jidArg}': an account JID is bare (no /resource)`);
  // Only when hosts were chosen explicitly: the built-in default (localhost) says nothing about intent.
  const explicitHosts = flags.config !== undefined || (flags.host?.length ?? 0) > 0;
  if (explicitHosts && !config.hosts.includes(jid.domain)) {
    io.stderr.write(`pepkeys: warning: ${jid.domain} is not a configured host (${config.hosts.join(', ')}); the server will not serve this account\n`);
  }
  return { config, jid: jid.bare };
}

/** What the running server did to the account's live sessions (nothing is said when no server runs). */
function sessionsEnded(n: number | undefined): string {
  return n === undefined ? '' : ` (${n} live session${n === 1 ? '' : 's'} ended)`;
}

function parseJidArg(arg: string) {
  try {
    return parseJid(arg);
  } catch (e) {
    if (e instanceof JidError) throw new CliError(`invalid JID '${arg}': ${e.message}`);
    throw e;
  }
}

function parseDomain(d: string): string {
  const jid = parseJidArg(d);
  if (jid.local || jid.resource) throw new CliError(`invalid domain '${d}'`);
  return jid.domain;
}

/**
 * Opens the database, runs one operation, closes it. A missing database file almost always means a wrong
 * --data or --config (or the working directory of another checkout), which must not silently make a new,
 * empty one: only `user add --create` does, and says where.
 */
export async function withStorage<T>(config: ServerConfig, create: boolean, io: CliIo, fn: (s: Storage) => Promise<T>): Promise<T> {
  if (config.storage.driver === 'sqlite') {
    const path = storagePath(config);
    if (!existsSync(path)) {
      if (!create) throw new CliError(`no database at ${path} (check --data or --config; \`pepkeys user add --create\` makes a new one)`);
      io.stderr.write(`pepkeys: creating a new database at ${path}\n`);
    }
  }
  // One operation: starting a storage thread would cost more than it saves.
  const storage = await openStorage(config, { inThread: true });
  try {
    return await fn(storage);
  } finally {
    await storage.close();
  }
}
