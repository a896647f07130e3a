// Throttles password guessing across connections (a per-stream limit alone is beaten by reconnecting):
// failures are counted per IP address and per account in a sliding window; the delay before answering
// grows with them, and past a hard limit attempts are refused without checking the password.
const WINDOW_MS = 15 * 60 * 1000;
const MAX_DELAY_MS = 10_000;

export class AuthThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly baseDelayMs: number, private readonly hardLimit: number, private readonly now: () => number = Date.now) {}

  private recent(key: string): number[] {
    const cutoff = this.now() - WINDOW_MS;
    const list = (this.failures.get(key) ?? []).filter((t) => t > cutoff);
    if (list.length) this.failures.set(key, list);
    else this.failures.delete(key);
    return list;
  }

  private count(ip: string, account: string | undefined): number {
    return Math.max(this.recent(`ip:${ip}`).length, account ? this.recent(`acct:${account}`).length : 0);
  }

  /** True when this IP or account has failed too often recently. */
  blocked(ip: string, account: string | undefined): boolean {
    return this.count(ip, account) >= this.hardLimit;
  }

  /** Records a failure and returns how long to wait before answering it. */
  fail(ip: string, account: string | undefined): number {
    const t = this.now();
    for (const key of account ? [`ip:${ip}`, `acct:${account}`] : [`ip:${ip}`]) {
      const list = this.recent(key);
      list.push(t);
      this.failures.set(key, list);
    }
    const n = this.count(ip, account);
    // Exponential from the third failure on: honest typos stay cheap, guessing gets slow.
    return Math.min(MAX_DELAY_MS, this.baseDelayMs * 2 ** Math.max(0, n - 2));
  }

  /** Forgets an account's failures after a successful login (the IP's stay). */
  succeed(account: string): void {
    this.failures.delete(`acct:${account}`);
  }

  /** Drops entries whose window has passed (called periodically). */
  sweep(): void {
    for (const key of [...this.failures.keys()]) this.recent(key);
  }

  /** Ends a lockout early (`pepkeys user unlock`): forgets the failures of an IP address or a bare JID; returns how many. */
  unlock(target: string): number {
    let n = 0;
    for (const key of [`ip:${target}`, `acct:${target}`]) {
      n += this.failures.get(key)?.length ?? 0;
      this.failures.delete(key);
    }
    return n;
  }
}
