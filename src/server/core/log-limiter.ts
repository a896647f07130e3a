// A warning that can repeat thousands of times a second (a fan-out to a cluster node that just died) is
// written at most once per interval, saying how many like it were folded into it since the last line; the
// metrics count every one.
export class LogLimiter {
  private last = -Infinity;
  private folded = 0;

  constructor(private readonly intervalMs: number) {}

  /** Calls `log` with the number folded since the last line, when the interval has passed; else counts. */
  hit(log: (folded: number) => void, now = Date.now()): void {
    if (now - this.last < this.intervalMs) {
      this.folded++;
      return;
    }
    const folded = this.folded;
    this.folded = 0;
    this.last = now;
    log(folded);
  }
}
