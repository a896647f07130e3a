// Throttles password guessing across connections (a per-stream limit alone is beaten by reconnecting):
// failures are counted per IP address and per account in a sliding window; the delay before answering
// grows with them, and past a hard limit attempts are refused without checking the password.
//
// Only wrong passwords and proofs are recorded (SaslFailure.badCredentials); a refusal during a lockout is
// not one, so a lockout ends at most one window after it began however often the client retries.
import { tryParseJid } from '../../../jid/index.ts';

export const AUTH_THROTTLE_WINDOW_MS = 15 * 60 * 1000;
const MAX_DELAY_MS = 10_000;

/** An IPv4 client on a dual-stack listener shows as ::ffff:a.b.c.d; counted (and unlocked) as a.b.c.d. */
function ipKey(ip: string): string {
  return `ip:${ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip.toLowerCase()}`;
}

function accountKey(account: string): string {
  return `acct:${account}`;
}

export class AuthThrottle {
  /** Failure times per key, oldest first; at most hardLimit kept (more would not lock out any longer). */
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly baseDelayMs: number, private readonly hardLimit: number, private readonly now: () => number = Date.now) {}

  private recent(key: string): number[] {
    const cutoff = this.now() - AUTH_THROTTLE_WINDOW_MS;
    const list = (this.failures.get(key) ?? []).filter((t) => t > cutoff);
    if (list.length) this.failures.set(key, list);
    else this.failures.delete(key);
    return list;
  }

  private count(ip: string, account: string | undefined): number {
    return Math.max(this.recent(ipKey(ip)).length, account ? this.recent(accountKey(account)).length : 0);
  }

  /** True when this IP or account has failed too often recently. */
  blocked(ip: string, account: string | undefined): boolean {
    return this.count(ip, account) >= this.hardLimit;
  }

  /** Records a wrong password or proof and returns how long to wait before answering it. */
  fail(ip: string, account: string | undefined): number {
    const t = this.now();
    for (const key of account ? [ipKey(ip), accountKey(account)] : [ipKey(ip)]) {
      const list = this.recent(key);
      list.push(t);
      // Keeping the newest hardLimit is enough: the lockout ends when the oldest of them leaves the window.
      if (list.length > this.hardLimit) list.splice(0, list.length - this.hardLimit);
      this.failures.set(key, list);
    }
    const n = this.count(ip, account);
    // Exponential from the third failure on: honest typos stay cheap, guessing gets slow.
    return Math.min(MAX_DELAY_MS, this.baseDelayMs * 2 ** Math.max(0, n - 2));
  }

  /** Forgets an account's failures after a successful login (the IP's stay). */
  succeed(account: string): void {
    this.failures.delete(accountKey(account));
  }

  /**
   * Ends a lockout early (`pepkeys user unlock JID|IP`): forgets the failures recorded for a bare JID
   * (anything with an '@') or an IP address, and returns how many failures within the window were forgotten
   * (0: it was not throttled at all).
   */
  unlock(target: string): number {
    let key: string;
    if (target.includes('@')) {
      const jid = tryParseJid(target);
      key = accountKey(jid ? jid.bare : target);
    } else {
      key = ipKey(target.trim());
    }
    const n = this.recent(key).length;
    this.failures.delete(key);
    return n;
  }

  /** Addresses and accounts with failures still in the window (after a sweep: exactly those). */
  get size(): number {
    return this.failures.size;
  }

  /** Drops entries whose window has passed (called periodically). */
  sweep(): void {
    for (const key of [...this.failures.keys()]) this.recent(key);
  }
}
