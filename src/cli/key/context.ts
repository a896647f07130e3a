// What every `key` command works with: the run's io (output, env, stdin), its home and account, and sessions.
import { parseJid, type Jid } from '../../jid/index.ts';
import { CliError } from '../errors.ts';
import type { TrustStore, TrustView } from '../../keys/index.ts';
import { matchFingerprint } from './fingerprint-arg.ts';
import type { CliContext, CliIo } from '../io.ts';
import type { KeyHome } from './home.ts';
import { KeyOutput } from './output.ts';
import { accountJid, homeOf, openSession, withSession, type CommonFlags, type ConnectFlags, type Session, type SessionOptions } from './session.ts';

export class KeyCommandContext {
  readonly out: KeyOutput;

  constructor(private readonly run: CliContext) {
    this.out = new KeyOutput(run.io);
  }

  get io(): CliIo {
    return this.run.io;
  }

  /** The exit code when the command ends without failing (e.g. 5 when a key changed). */
  set exitCode(code: number) {
    this.run.exitCode = code;
  }

  account(flags: { jid?: string }): Jid {
    return accountJid(flags, this.io.env);
  }

  /**
   * Our account for commands about our own keys: --jid or $PEPKEYS_JID, else the one account the home holds
   * keys for (asking which only when there are several, or none).
   */
  async ownAccount(flags: CommonFlags & { jid?: string }): Promise<Jid> {
    if (flags.jid ?? this.io.env.PEPKEYS_JID) return this.account(flags);
    const held = await this.home(flags).accounts();
    if (held.length === 1) return parseJid(held[0]!);
    if (held.length > 1) throw new CliError(`which account? this home holds keys for ${held.join(', ')}; give --jid`);
    return this.account(flags);
  }

  /**
   * Runs `fn` on the contact's key that FINGERPRINT names in the home's trust store (exit 4 when none does),
   * with the store open, and closes it after.
   */
  async withContactKey<T>(flags: CommonFlags, jidArg: string, fpArg: string, fn: (trust: TrustStore, key: TrustView, bare: string) => Promise<T>): Promise<T> {
    const bare = parseJid(jidArg).bare;
    const trust = await this.home(flags).openTrust();
    try {
      return await fn(trust, matchFingerprint(fpArg, await trust.keys(bare), (v) => v.print, `key of ${bare}`), bare);
    } finally {
      await trust.close();
    }
  }

  home(flags: CommonFlags): KeyHome {
    return homeOf(flags, this.io);
  }

  openSession(flags: ConnectFlags, opts?: SessionOptions): Promise<Session> {
    return openSession(this.io, flags, opts);
  }

  withSession<T>(flags: ConnectFlags, fn: (s: Session) => Promise<T>, opts?: SessionOptions): Promise<T> {
    return withSession(this.io, flags, fn, opts);
  }
}
