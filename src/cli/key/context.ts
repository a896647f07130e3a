// What every `key` command works with: the run's io (output, env, stdin), its home and account, and sessions.
import type { Jid } from '../../jid/index.ts';
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

  home(flags: CommonFlags): KeyHome {
    return homeOf(flags, this.io.env);
  }

  openSession(flags: ConnectFlags, opts?: SessionOptions): Promise<Session> {
    return openSession(this.io, flags, opts);
  }

  withSession<T>(flags: ConnectFlags, fn: (s: Session) => Promise<T>, opts?: SessionOptions): Promise<T> {
    return withSession(this.io, flags, fn, opts);
  }
}
