// Deleting an account and changing its password on a running server. Both end the account's live
// sessions with the stream error Prosody's mod_c2s uses for the same events:
// - password change: <reset/> (RFC 6120 §4.9.3.16: "the keys or certificates used to establish a secure
//   context for the stream have expired or have been revoked"; the SASL authentication it was built on no
//   longer holds, and the client must negotiate again, with the new password);
// - deletion: <not-authorized/> (§4.9.3.12: the entity is no longer authorized; <host-unknown/> would
//   wrongly say the domain is not served).
// Deletion first makes logins fail (the account is treated as absent), ends the sessions, then fires
// 'account/deleted', on which each module deletes and announces its own data (PEP nodes with XEP-0060
// <delete/> notifications, subscriptions cancelled with the contacts, offline messages, the archive...),
// and last the store removes the account with anything left, in one transaction.
import type { ModuleSession, SessionDirectory } from '../../cluster/index.ts';
import { StreamError } from '../../protocol/rfc6120.ts';
import type { AccountCredentials, Storage } from '../../storage/types.ts';
import type { ServerEvents } from './events.ts';
import type { HookBus } from './hooks.ts';
import type { Logger } from './logger.ts';

export interface AccountLifecycleDeps {
  storage: Storage;
  sessions: SessionDirectory;
  hooks: HookBus<ServerEvents>;
  logger: Logger;
  /** Closes one session with a stream error (the transport's business). */
  closeSession(session: ModuleSession, error: StreamError): void;
}

export class AccountLifecycle {
  private readonly deleting = new Set<string>();

  constructor(private readonly deps: AccountLifecycleDeps) {}

  /** True while the account is being deleted: it must not log in (SASL treats it as unknown). */
  isDeleting(bare: string): boolean {
    return this.deleting.has(bare);
  }

  /** Ends every session of the account with `error`; returns how many there were. */
  async endSessions(bare: string, error: StreamError): Promise<number> {
    const list = this.deps.sessions.resources(bare);
    for (const s of list) this.deps.closeSession(s, error);
    // Let session-closed hooks (unavailable presence to contacts) run before anything else changes.
    await new Promise((r) => setImmediate(r));
    return list.length;
  }

  /** Returns false when there is no such account. */
  async changePassword(bare: string, credentials: AccountCredentials): Promise<{ sessions: number } | undefined> {
    if (!(await this.deps.storage.accounts.setCredentials(bare, credentials))) return undefined;
    const sessions = await this.endSessions(bare, new StreamError('reset', 'the password of this account was changed; log in again'));
    this.deps.logger.info({ jid: bare, sessions }, 'password changed');
    return { sessions };
  }

  /** Returns undefined when there is no such account. */
  async delete(bare: string): Promise<{ sessions: number } | undefined> {
    if (!(await this.deps.storage.accounts.get(bare))) return undefined;
    this.deleting.add(bare);
    try {
      const sessions = await this.endSessions(bare, new StreamError('not-authorized', 'this account was deleted'));
      await this.deps.hooks.fire('account/deleted', { jid: bare });
      await this.deps.storage.accounts.delete(bare);
      // A login that had passed SASL before the deletion began may have bound since.
      await this.endSessions(bare, new StreamError('not-authorized', 'this account was deleted'));
      this.deps.logger.info({ jid: bare, sessions }, 'account deleted');
      return { sessions };
    } finally {
      this.deleting.delete(bare);
    }
  }
}
