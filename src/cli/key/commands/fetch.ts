// `key fetch JID`: a contact's keys (PEP, else directly from their clients) into the trust store; exit 5 when
// a key changed. With a bare JID it also shows the contact's OMEMO devices and OX keys, with the fingerprints
// their clients print, and keeps them in the trust store too, so `key trust`/`verify` work on them and an OMEMO
// device whose identity key differs from the one seen before is a change (exit 5) like an XEP-0189 key.
import { Command } from 'commander';
import { parseJid } from '../../../jid/index.ts';
import { KEY_OP_ERROR_KINDS, KeyOpError, type LogVerified, fetchPublishedKeys, observePublishedKeys, type FetchResult, type PublishedKeyObservation, type PublishedKeys } from '../../../client/index.ts';
import type { KeyCommandContext } from '../context.ts';
import { EXIT_TRUST } from '../exit-codes.ts';
import { TRUST_COLUMNS, trustJson, attestationJson, changedSentence, clientFingerprint, fp, keyEventJson, refusedJson, refusedLine, revocationJson, trustKind, trustRow } from '../presenter.ts';
import { action, addCommonOptions, addConnectOptions, addLongOption, type ConnectFlags } from '../session.ts';
import { CliError } from '../../errors.ts';
import { KeyNotAdmitted } from '../../../client/index.ts';
import { KtMapVerifyError } from '../../../client/kt-map.ts';
import type { MapChecked } from '../verify-map.ts';
import { waitForMap, waitedJson, type Waited } from '../map-wait.ts';
import type { Session } from '../session.ts';

export function fetchCommand(cx: KeyCommandContext): Command {
  return addLongOption(addConnectOptions(addCommonOptions(new Command('fetch').description("fetch a contact's keys (PEP, else directly from their clients) into your trust store").argument('<jid>', 'bare JID, or a full JID to ask one client directly'))))
    .option('--verify-log', "check that each XEP-0189 key item is the newest event for it in the domain's transparency log (docs/transparency.md)")
    .option('--verify-map', "also check that each XEP-0189 key item is the latest version the domain's verifiable map proves (implies --verify-log); an item newer than the map's latest epoch is reported as not yet in the map")
    .option('--strict', 'with --verify-map: refuse an item that is not yet in the map too')
    .option('--wait-map <seconds>', 'with --verify-map: wait up to this long for the map to cover an item not yet in it, and check it then, before it is accepted')
    .action(action(async (jidArg: string, flags: ConnectFlags & { verifyLog?: boolean; verifyMap?: boolean; strict?: boolean; waitMap?: string }) => {
      const target = parseJid(jidArg);
      if (flags.waitMap !== undefined && !flags.verifyMap) throw new CliError('--wait-map waits for the verifiable map: use it with --verify-map');
      const wait = flags.waitMap === undefined ? undefined : waitForMap(flags.waitMap, !!flags.strict);
      const { result, published, seen, missing, log, map } = await cx.withSession(flags, async (s) => {
        try {
          return await fetchIn(s);
        } finally {
          await wait?.stop();
        }
      }, { verifyLog: !!flags.verifyLog, ...(flags.verifyMap ? { verifyMap: { strict: !!flags.strict && !wait, ...(wait ? { onPending: wait.onPending } : {}) } } : {}) });
      async function fetchIn(s: Session) {
        let result: FetchResult | undefined;
        let missing: KeyOpError | undefined;
        try {
          result = await s.keys.fetch(target.full);
        } catch (err) {
          // A key the log does not back is a trust failure (exit 5), said in one sentence; it was not recorded.
          if (err instanceof KeyNotAdmitted && err.reason instanceof KtMapVerifyError) {
            throw new CliError(`verifiable map check of ${target.bare} failed (${err.reason.code}): ${err.reason.message}; the key was not accepted`, EXIT_TRUST);
          }
          if (err instanceof KeyNotAdmitted) throw new CliError(`transparency log check of ${target.bare} failed: ${err.message}; the key was not accepted`, EXIT_TRUST);
          // No XEP-0189 key: still worth showing the OMEMO and OX keys before saying so.
          if (target.resource || !(err instanceof KeyOpError) || KEY_OP_ERROR_KINDS[err.code] !== 'not-found') throw err;
          missing = err;
        }
        const published = target.resource ? undefined : await fetchPublishedKeys(s.client, target.bare);
        const seen = published ? await observePublishedKeys(s.trust, target.bare, published) : [];
        const log = s.log && logSummary(s.log.verified);
        const map = s.map?.checked;
        return { result, published, seen, missing, log, map };
      }
      const changedPublished = seen.filter((o) => o.result.kind === 'changed');
      for (const o of changedPublished) cx.out.warn(publishedChangedSentence(target.bare, o));
      if (changedPublished.length) cx.exitCode = EXIT_TRUST;
      if (!result) {
        if (published && !flags.json) showPublished(cx, published, seen);
        if (published && flags.json) cx.out.json({ jid: target.bare, keys: [], omemo: published.omemo, ox: published.ox, trust: seen.map(publishedJson) });
        // The OMEMO and OX keys are recorded; the exit code still says there is no XEP-0189 key, as before,
        // unless one of them changed: that is what the exit code must say then.
        if (changedPublished.length) {
          cx.out.warn(missing!.message);
          return;
        }
        throw missing!;
      }
      if (result.pepProblem) cx.out.warn(`${result.pepProblem}; got the key directly from ${target.bare}'s client instead`);
      const changed = result.keys.filter((k) => k.result.kind === 'changed');
      for (const k of changed) cx.out.warn(changedSentence(k));
      for (const r of result.revocations) if (!r.outcome.ok) cx.out.warn(`ignored a revocation from ${r.jid}: ${r.outcome.message}`);
      // A revocation or attestation the log does not back was not applied: loud, and exit 5 like a refused key.
      for (const r of result.refused) cx.out.warn(refusedLine(r));
      if (result.refused.length) cx.exitCode = EXIT_TRUST;
      if (flags.json) {
        cx.out.json({
          jid: result.jid, source: result.source, keys: result.keys.map(keyEventJson), revocations: result.revocations.map(revocationJson),
          attestations: result.attestations.map(attestationJson), ...(result.refused.length ? { refused: result.refused.map(refusedJson) } : {}), ...(published ? { omemo: published.omemo, ox: published.ox, trust: seen.map(publishedJson) } : {}),
          ...(log ? { log } : {}), ...(map ? { map: map.map((m) => ({ ...m, ...waitedJson(wait?.outcomes.get(m)) })) } : {}),
        });
      } else {
        cx.out.table(result.keys.map((k) => ({ ...trustRow(k.result.record, flags), seen: k.result.kind, source: k.source })), [...TRUST_COLUMNS, 'seen', 'source']);
        for (const r of result.revocations) if (r.outcome.ok && r.record) cx.out.line(`revoked: ${fp(r.record.print)} (revocation checked)`);
        if (published) showPublished(cx, published, seen);
        if (log) cx.out.line(`log: ${log.verified.length} item(s) of ${target.bare} verified in the transparency log of ${log.domain} (${log.size} entries)`);
        for (const m of map ?? []) cx.out.line(mapLine(m, wait?.outcomes.get(m)));
      }
      if (changed.length) cx.exitCode = EXIT_TRUST;
    }));
}

/** The contact's OMEMO devices and OX keys, each kind as a table when there is any, with its trust state. */
function showPublished(cx: KeyCommandContext, p: PublishedKeys, seen: PublishedKeyObservation[]): void {
  const state = (print: string) => seen.find((o) => o.result.record.print === print);
  const cell = (print: string) => {
    const o = state(print);
    return o ? `${o.result.record.effective}${o.result.kind === 'unchanged' ? '' : ` (${o.result.kind})`}` : '';
  };
  if (p.omemo.length) {
    cx.out.line('OMEMO devices:');
    cx.out.table(p.omemo.map((d) => ({
      device: String(d.deviceId), omemo: d.version === 'legacy' ? '0.3' : '0.8+', fingerprint: d.fingerprint ?? `(${d.problem?.message ?? 'no bundle'})`,
      state: d.fingerprint ? cell(`omemo:${d.fingerprint.replaceAll(' ', '')}`) : '', label: d.label ?? '',
    })), ['device', 'omemo', 'fingerprint', 'state', 'label']);
  }
  if (p.ox.length) {
    cx.out.line('OpenPGP keys (OX):');
    cx.out.table(p.ox.map((k) => ({
      fingerprint: k.display, state: k.problem ? '' : cell(`openpgp-v4:${k.fingerprint.toLowerCase()}`),
      'user id': k.userIds?.join(', ') ?? `(${k.problem?.message ?? 'unreadable'})`, announced: k.announced.slice(0, 10),
    })), ['fingerprint', 'state', 'user id', 'announced']);
  }
}

function publishedChangedSentence(jid: string, o: PublishedKeyObservation): string {
  const r = o.result.record;
  const before = o.result.previous.map((p) => `${clientFingerprint(p)} (${p.effective})`).join(', ');
  return `${jid}'s ${trustKind(r)} now has the key ${clientFingerprint(r)} instead of ${before}; it is stored as unverified and is not trusted until you compare it and run \`pepkeys key trust ${jid} FINGERPRINT\``;
}

function publishedJson(o: PublishedKeyObservation): Record<string, unknown> {
  return { seen: o.result.kind, key: trustJson(o.result.record), previous: o.result.previous.map(trustJson) };
}

/** What `--verify-log` proved, for the output: the domain, the latest head size and each key item. */
function logSummary(verified: LogVerified[]) {
  const last = verified.at(-1);
  return last ? { domain: last.domain, size: last.size, verified: verified.map((v) => ({ node: v.node, item: v.item, seq: v.seq })) } : undefined;
}

/** One `--verify-map` result: proven latest, or not yet in the map (the map lags the log by up to one epoch). */
function mapLine(m: MapChecked, waited?: Waited): string {
  if (waited === 'timeout') return `map: item ${m.item} on ${m.node} (log entry ${m.seq}) is still not in the map after waiting: epoch ${m.epoch} covers log size ${m.logSize}`;
  if (waited?.state === 'superseded') return `map: item ${m.item} on ${m.node} (log entry ${m.seq}) was current when fetched; epoch ${waited.epoch}, the first seen to cover it, has a newer key event (log entry ${waited.by}, version ${waited.version}): fetch again`;
  if (waited) return `map: item ${m.item} on ${m.node} (log entry ${m.seq}) was not yet in the map; epoch ${waited.epoch} (log size ${waited.logSize}) covers it: version ${waited.version} is this item: proven`;
  return m.state === 'proven'
    ? `map: item ${m.item} on ${m.node}: version ${m.version} is the latest in the map (epoch ${m.epoch}, log size ${m.logSize}) and is served: proven`
    : `map: item ${m.item} on ${m.node} (log entry ${m.seq}) is not yet in the map: epoch ${m.epoch} covers log size ${m.logSize}; run again after the next epoch`;
}
