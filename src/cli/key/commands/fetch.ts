// `key fetch JID`: a contact's keys (PEP, else directly from their clients) into the trust store; exit 5 when
// a key changed. With a bare JID it also shows the contact's OMEMO devices and OX keys, with the fingerprints
// their clients print, so the user can compare them; those are shown, not yet kept in the trust store.
import { Command } from 'commander';
import { parseJid } from '../../../jid/index.ts';
import { KEY_OP_ERROR_KINDS, KeyOpError, fetchPublishedKeys, type FetchResult, type PublishedKeys } from '../../../client/index.ts';
import type { KeyCommandContext } from '../context.ts';
import { EXIT_TRUST } from '../exit-codes.ts';
import { TRUST_COLUMNS, attestationJson, changedSentence, fp, keyEventJson, revocationJson, trustRow } from '../presenter.ts';
import { action, addCommonOptions, addConnectOptions, addLongOption, type ConnectFlags } from '../session.ts';

export function fetchCommand(cx: KeyCommandContext): Command {
  return addLongOption(addConnectOptions(addCommonOptions(new Command('fetch').description("fetch a contact's keys (PEP, else directly from their clients) into your trust store").argument('<jid>', 'bare JID, or a full JID to ask one client directly'))))
    .action(action(async (jidArg: string, flags: ConnectFlags) => {
      const target = parseJid(jidArg);
      const { result, published, missing } = await cx.withSession(flags, async (s) => {
        let result: FetchResult | undefined;
        let missing: KeyOpError | undefined;
        try {
          result = await s.keys.fetch(target.full);
        } catch (err) {
          // No XEP-0189 key: still worth showing the OMEMO and OX keys before saying so.
          if (target.resource || !(err instanceof KeyOpError) || KEY_OP_ERROR_KINDS[err.code] !== 'not-found') throw err;
          missing = err;
        }
        const published = target.resource ? undefined : await fetchPublishedKeys(s.client, target.bare);
        return { result, published, missing };
      });
      if (!result) {
        if (published && !flags.json) showPublished(cx, published);
        if (published && flags.json) cx.out.json({ jid: target.bare, keys: [], omemo: published.omemo, ox: published.ox });
        throw missing!;
      }
      if (result.pepProblem) cx.out.warn(`${result.pepProblem}; got the key directly from ${target.bare}'s client instead`);
      const changed = result.keys.filter((k) => k.result.kind === 'changed');
      for (const k of changed) cx.out.warn(changedSentence(k));
      for (const r of result.revocations) if (!r.outcome.ok) cx.out.warn(`ignored a revocation from ${r.jid}: ${r.outcome.message}`);
      if (flags.json) {
        cx.out.json({
          jid: result.jid, source: result.source, keys: result.keys.map(keyEventJson), revocations: result.revocations.map(revocationJson),
          attestations: result.attestations.map(attestationJson), ...(published ? { omemo: published.omemo, ox: published.ox } : {}),
        });
      } else {
        cx.out.table(result.keys.map((k) => ({ ...trustRow(k.result.record, flags), seen: k.result.kind, source: k.source })), [...TRUST_COLUMNS, 'seen', 'source']);
        for (const r of result.revocations) if (r.outcome.ok && r.record) cx.out.line(`revoked: ${fp(r.record.print)} (revocation checked)`);
        if (published) showPublished(cx, published);
      }
      if (changed.length) cx.exitCode = EXIT_TRUST;
    }));
}

/** The contact's OMEMO devices and OX keys, each kind as a table when there is any. */
function showPublished(cx: KeyCommandContext, p: PublishedKeys): void {
  if (p.omemo.length) {
    cx.out.line('OMEMO devices:');
    cx.out.table(p.omemo.map((d) => ({ device: String(d.deviceId), omemo: d.version === 'legacy' ? '0.3' : '0.8+', fingerprint: d.fingerprint ?? `(${d.problem?.message ?? 'no bundle'})`, label: d.label ?? '' })), ['device', 'omemo', 'fingerprint', 'label']);
  }
  if (p.ox.length) {
    cx.out.line('OpenPGP keys (OX):');
    cx.out.table(p.ox.map((k) => ({ fingerprint: k.display, 'user id': k.userIds?.join(', ') ?? `(${k.problem?.message ?? 'unreadable'})`, announced: k.announced.slice(0, 10) })), ['fingerprint', 'user id', 'announced']);
  }
}
