// Waits for a condition the system reaches asynchronously (a replica, a lease running out), failing with
// `what` if it does not hold within `timeoutMs`: a bound against hanging, not a timing assertion.
export async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
