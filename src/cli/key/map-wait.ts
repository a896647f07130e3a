// `key fetch --verify-map --wait-map S`: an item not yet in the map is held, up to S seconds in all, until a map
// head covers it, then checked at that epoch (map-pending.ts) before the key is recorded. A failure refuses the
// key like any map failure; still pending at the deadline, it is admitted and reported, or refused with --strict.
import { KtMapVerifyError } from '../../client/kt-map.ts';
import { CliError } from '../errors.ts';
import { coverages, recheckPending, type PendingContext, type PendingItem, type RecheckOutcome } from './map-pending.ts';
import type { MapChecked } from './verify-map.ts';

export type Waited = RecheckOutcome | 'timeout';

/** How often the map head is asked for besides the notifications of the map heads node. */
const POLL_MS = 1_000;

export function waitForMap(seconds: string, strict: boolean) {
  const s = Number(seconds);
  if (!(s >= 0)) throw new CliError(`--wait-map ${seconds}: expected a number of seconds`);
  const deadline = Date.now() + s * 1000;
  const outcomes = new Map<MapChecked, Waited>();
  const coverage = coverages(POLL_MS);
  const onPending = async (at: PendingContext, p: PendingItem, checked: MapChecked): Promise<void> => {
    const head = await (await coverage.follow(at, p.domain)).covering(p.seq, Math.max(0, deadline - Date.now()));
    if (!head) {
      if (strict) throw new KtMapVerifyError('not-in-map', `${p.jid}'s item ${checked.item} on ${p.node} (log entry ${p.seq}) is still not in the map of ${p.domain} after waiting ${s} s: epoch ${checked.epoch} covers log size ${checked.logSize}`);
      outcomes.set(checked, 'timeout');
      return;
    }
    const o = await recheckPending(at, p, head);
    outcomes.set(checked, o);
  };
  return {
    onPending,
    outcomes,
    stop: () => coverage.stop(),
  };
}

/** What --wait-map adds to an item's JSON. */
export function waitedJson(w: Waited | undefined): Record<string, unknown> {
  if (!w) return {};
  return { waited: w === 'timeout' ? { state: 'timeout' } : w };
}
