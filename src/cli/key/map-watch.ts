// `key watch --verify-map`: a key item admitted as "not yet in the map" is followed until a map head covers it
// (the domain's map heads node, polling besides; at most --map-wait seconds), then checked at that epoch
// (map-pending.ts) and the outcome reported as an event of its own: proven, superseded (a newer key event came
// first), still pending at the bound, or a failure: as loud as `key fetch`'s, exit code 5. The key was already
// recorded when it came (as the watch does without --strict): on a failure, a key this admission brought into
// the trust store is taken out of it again (it was never verified by anyone); one that was there before stays,
// and the failure says not to rely on it.
import { KtMapVerifyError } from '../../client/kt-map.ts';
import { parsePubkey } from '../../keys/pubkey.ts';
import { observedFromPubkey } from '../../keys/trust.ts';
import { CliError } from '../errors.ts';
import { EXIT_TRUST } from './exit-codes.ts';
import type { KeyCommandContext } from './context.ts';
import { coverages, recheckPending, type PendingContext, type PendingItem } from './map-pending.ts';

type Emit = (obj: Record<string, unknown>, line: string) => void;

export function watchPending(cx: KeyCommandContext, flags: { mapWait?: string; mapPoll?: string }, emit: Emit) {
  const waitMs = seconds('--map-wait', flags.mapWait ?? '600');
  const pollMs = seconds('--map-poll', flags.mapPoll ?? '30');
  const coverage = coverages(pollMs, (domain, reason) => cx.out.warn(`${domain} refused a subscription to its map heads (${reason}); asking for its map head every ${pollMs / 1000} s instead`));
  const checks = new Set<Promise<void>>();
  let stopped = false;
  const about = (p: PendingItem) => ({ jid: p.jid, node: p.node, item: p.item.id ?? '', seq: p.seq });
  const what = (p: PendingItem) => `${p.jid}'s item ${p.item.id ?? ''} on ${p.node} (log entry ${p.seq})`;
  const recheck = async (at: PendingContext, p: PendingItem, added: string | undefined): Promise<void> => {
    try {
      const head = await (await coverage.follow(at, p.domain)).covering(p.seq, waitMs);
      if (stopped) return;
      if (!head) {
        emit({ event: 'map', ...about(p), state: 'timeout' }, `map: ${what(p)} is still not in the map of ${p.domain} after ${waitMs / 1000} s`);
        return;
      }
      const o = await recheckPending(at, p, head);
      if (stopped) return;
      if (o.state === 'proven') emit({ event: 'map', ...about(p), ...o }, `map: ${what(p)} is now in the map: version ${o.version} at epoch ${o.epoch} (log size ${o.logSize}): proven`);
      else emit({ event: 'map', ...about(p), ...o }, `map: ${what(p)}: epoch ${o.epoch}, the first seen to cover it, has a newer key event (log entry ${o.by}, version ${o.version}); it is reported on its own`);
    } catch (err) {
      if (stopped) return;
      const e = err instanceof Error ? err : new Error(String(err));
      const code = e instanceof KtMapVerifyError ? e.code : undefined;
      cx.exitCode = EXIT_TRUST;
      const removed = added !== undefined && at.trust !== undefined && (await at.trust.forget(p.jid, added).catch(() => false));
      emit({ event: 'map-failed', ...about(p), code, error: e.message, removed },
        `KEY MAP CHECK FAILED  ${p.jid} item ${p.item.id ?? ''}: verifiable map check failed${code ? ` [${code}]` : ''}: ${e.message}; the key was accepted as not yet in the map: ${
          removed ? `it is taken out of the trust store again (${added})` : 'do not rely on it'}`);
    }
  };
  /** The print of the key `p` carries when the trust store does not hold it yet (its admission will add it). */
  const newKey = async (at: PendingContext, p: PendingItem): Promise<string | undefined> => {
    const el = p.item.payload;
    if (!at.trust || !el?.is('pubkey')) return undefined;
    try {
      const { print } = observedFromPubkey(parsePubkey(el));
      return (await at.trust.status(p.jid, print)) ? undefined : print;
    } catch {
      return undefined; // not a key the trust store would record
    }
  };
  return {
    // Returns at once: the key is recorded now, the check runs as map heads come.
    async onPending(at: PendingContext, p: PendingItem): Promise<void> {
      const added = await newKey(at, p);
      const c = recheck(at, p, added).finally(() => checks.delete(c));
      checks.add(c);
    },
    async stop(): Promise<void> {
      stopped = true;
      await coverage.stop();
      await Promise.all(checks);
    },
  };
}

function seconds(flag: string, v: string): number {
  const n = Number(v);
  if (!(n > 0)) throw new CliError(`${flag} ${v}: expected a positive number of seconds`);
  return n * 1000;
}
