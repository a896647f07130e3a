// The server-wide ceiling on unsent output (issue 19, memory budget). Each session's own output is bounded
// (output_max_bytes), but thousands of sessions each just under it would still exhaust memory; so sessions
// holding more than a socket's ordinary buffer report what they hold here, and a session that would take
// the total past the ceiling is the one shed. Sessions below a socket's high-water mark are not tracked:
// the per-connection worst case (docs/security.md) counts them.
export class OutputBudget {
  private total = 0;
  private readonly held = new Map<object, number>();

  constructor(readonly ceiling: number) {}

  /** Records that `owner` now holds `bytes` of unsent output; false if that takes the total past the ceiling. */
  hold(owner: object, bytes: number): boolean {
    const before = this.held.get(owner) ?? 0;
    if (bytes <= 0) {
      this.release(owner);
      return true;
    }
    this.held.set(owner, bytes);
    this.total += bytes - before;
    return this.total <= this.ceiling;
  }

  release(owner: object): void {
    const before = this.held.get(owner);
    if (before === undefined) return;
    this.held.delete(owner);
    this.total -= before;
  }

  /** Unsent output of the tracked sessions together. */
  get bytes(): number {
    return this.total;
  }
}
