// `key verify JID`: fetch the contact's keys (XEP-0189, OMEMO devices, OX keys), check them, and say whether we
// verified one (exit 5 if not).
import { Command } from 'commander';
import { parseJid } from '../../../jid/index.ts';
import { checkPubkeyPrint, parsePubkey } from '../../../keys/index.ts';
import { parseXml } from '../../../xml/index.ts';
import { ClientError, KEY_OP_ERROR_KINDS, KeyOpError, fetchPublishedKeys, observePublishedKeys } from '../../../client/index.ts';
import { keyFamily } from '../../../keys/index.ts';
import { CliError } from '../../errors.ts';
import type { KeyCommandContext } from '../context.ts';
import { EXIT_NOT_FOUND, EXIT_TRUST } from '../exit-codes.ts';
import { trustColumns, trustKind, clientFingerprint, attestationJson, attestationOutcome, fp, keyOpErrorSentence, trustJson, trustRow } from '../presenter.ts';
import { action, addCommonOptions, addConnectOptions, addLongOption, type ConnectFlags } from '../session.ts';

export function verifyCommand(cx: KeyCommandContext): Command {
  return addLongOption(addConnectOptions(addCommonOptions(new Command('verify').description("fetch JID's keys, check prints, validity, revocations and attestations, and report whether you verified them").argument('<jid>', 'the contact'))))
    .action(action(async (jidArg: string, flags: ConnectFlags) => {
      const bare = parseJid(jidArg).bare;
      const online = () => cx.withSession(flags, async (s) => {
        let result;
        let problem: string | undefined;
        let failure: unknown;
        try {
          result = await s.keys.fetch(bare);
        } catch (e) {
          failure = e;
        }
        const published = await observePublishedKeys(s.trust, bare, await fetchPublishedKeys(s.client, bare));
        // Still report what the trust store knows; a contact with only OMEMO or OX keys lacks nothing worth a warning.
        const onlyOthers = published.length > 0 && failure instanceof KeyOpError && KEY_OP_ERROR_KINDS[failure.code] === 'not-found';
        if (failure !== undefined && !onlyOthers) problem = failure instanceof KeyOpError ? keyOpErrorSentence(failure) : (failure as Error).message;
        return { views: await s.trust.keys(bare), attestations: result?.attestations ?? [], problem };
      });
      const { views, attestations, problem } = await online().catch(async (e: unknown) => {
        // The server cannot be reached: what the trust store knows still answers the question (as documented).
        if (!(e instanceof ClientError) || e.code !== 'connect-failed') throw e;
        const trust = await cx.home(flags).openTrust();
        try {
          return { views: await trust.keys(bare), attestations: [], problem: `${e.message} (is the server running?); showing what your trust store knows` };
        } finally {
          await trust.close();
        }
      });
      if (problem) cx.out.warn(`could not fetch ${bare}'s keys now: ${problem}`);
      const checked = views.map((v) => ({ view: v, printOk: v.payload && keyFamily(v.format) === 'xep0189' ? checkPubkeyPrint(parsePubkey(parseXml(v.payload))) : undefined }));
      const usable = views.filter((v) => v.effective === 'verified');
      if (flags.json) {
        cx.out.json({ jid: bare, verified: usable.length > 0, keys: checked.map((c) => ({ ...trustJson(c.view), printMatches: c.printOk })), attestations: attestations.map(attestationJson) });
      } else {
        if (views.length) cx.out.table(views.map((v) => trustRow(v, flags)), trustColumns(views));
        for (const a of attestations) cx.out.line(`attestation by ${a.attestation.signerjid}: ${attestationOutcome(a)}`);
        cx.out.line(usable.length ? `${bare}: verified ${usable.map((v) => (keyFamily(v.format) === 'xep0189' ? `key ${fp(v.print)}` : `${trustKind(v)} ${clientFingerprint(v)}`)).join(', ')}` : `${bare}: no verified key; compare the fingerprint with ${bare} out of band, then run \`pepkeys key trust ${bare} FINGERPRINT\``);
      }
      if (views.length === 0) throw new CliError(`no keys known for ${bare}`, EXIT_NOT_FOUND);
      if (!usable.length) cx.exitCode = EXIT_TRUST;
    }));
}
