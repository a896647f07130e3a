// `key monitor`: reads the account's entries in its domain's transparency log (incrementally, from where the
// last run stopped), each proven included in a fresh head that is proven consistent with the stored one, and
// alerts on every key event that none of this home's own writes explains (docs/transparency.md
// "Monitoring"): the attack transparency exists to catch, a server publishing a key in the user's name.
// Alerts stay pending, and the exit code 5, until the user acknowledges them with --accept.
import { Command } from 'commander';
import { join } from 'node:path';
import { FileKtHeadStore, KtClient, KtVerifyError } from '../../../client/index.ts';
import { CliError } from '../../errors.ts';
import { KT_HEADS_FILE } from '../../kt-paths.ts';
import { alertOf, isOwn, KtMonitorFile, type MonitorAlert } from '../../kt-monitor-file.ts';
import type { KeyCommandContext } from '../context.ts';
import { EXIT_TRUST } from '../exit-codes.ts';
import { action, addCommonOptions, addConnectOptions, timeoutMs, type ConnectFlags } from '../session.ts';

interface MonitorFlags extends ConnectFlags {
  accept?: string[];
  acceptAll?: boolean;
}

export function monitorCommand(cx: KeyCommandContext): Command {
  return addConnectOptions(addCommonOptions(new Command('monitor')
    .description("read your account's entries in your domain's transparency log and alert on every key event this home did not make (exit 5 while alerts are pending)")))
    .option('--accept <seq...>', 'acknowledge these alerts (log entry numbers): events you made yourself, e.g. with another client')
    .option('--accept-all', 'acknowledge every alert shown by this run')
    .action(action(async (flags: MonitorFlags) => {
      const me = cx.account(flags);
      const file = KtMonitorFile.inHome(cx.home(flags).dir);
      const accept = new Set((flags.accept ?? []).map((s) => {
        const n = Number(s);
        if (!Number.isSafeInteger(n) || n < 0) throw new CliError(`--accept ${s}: expected a log entry number`);
        return n;
      }));
      const r = await cx.withSession(flags, async (s) => {
        const kt = new KtClient(s.client, new FileKtHeadStore(join(s.home.dir, KT_HEADS_FILE)), timeoutMs(flags));
        try {
          const { head } = await kt.update(me.domain, true);
          const state = file.state(me.bare);
          if (head.size < state.next) throw new KtVerifyError('shrunk', `the log of ${me.domain} has ${head.size} entries, but this home already read your entries up to ${state.next}`, me.domain);
          const events = await kt.entriesOf(me.bare, head, state.next);
          const fresh = events.filter((e) => !isOwn(state, e) && !state.accepted.includes(e.seq)).map(alertOf);
          const shown = [...state.pending, ...fresh];
          const acked = shown.filter((a) => flags.acceptAll || accept.has(a.seq));
          const pending = shown.filter((a) => !acked.includes(a));
          file.save(me.bare, { ...state, next: head.size, pending, accepted: [...state.accepted, ...acked.map((a) => a.seq)] });
          return { head, checked: events.length, own: events.filter((e) => isOwn(state, e)).length, fresh, pending, acked };
        } catch (e) {
          if (e instanceof KtVerifyError) {
            if (flags.json) cx.out.json({ ok: false, jid: me.bare, code: e.code, error: e.message });
            throw new CliError(`monitoring ${me.bare} failed: ${e.message}`, EXIT_TRUST);
          }
          throw e;
        }
      });
      const unknownAccept = [...accept].filter((n) => !r.acked.some((a) => a.seq === n));
      if (unknownAccept.length) cx.out.warn(`no pending alert has entry number ${unknownAccept.join(', ')}`);
      if (flags.json) {
        cx.out.json({ ok: r.pending.length === 0, jid: me.bare, domain: r.head.domain, size: r.head.size, checked: r.checked, own: r.own, alerts: r.pending, accepted: r.acked.map((a) => a.seq) });
      } else {
        cx.out.line(`The log of ${r.head.domain} (${r.head.size} entries) holds ${r.checked} new entr${r.checked === 1 ? 'y' : 'ies'} about ${me.bare}, ${r.own} made by this home.`);
        for (const a of r.acked) cx.out.line(`accepted: entry ${a.seq} (${describe(a)})`);
        for (const a of r.pending) cx.out.line(alertLine(me.bare, a));
        if (!r.pending.length) cx.out.line('No key event you did not make.');
      }
      if (r.pending.length) cx.exitCode = EXIT_TRUST;
    }));
}

function describe(a: MonitorAlert): string {
  return `${a.type} of item ${a.item || '(none)'} on ${a.node}${a.fingerprint ? `, key ${a.fingerprint}` : ''}, at ${a.time}`;
}

function alertLine(bare: string, a: MonitorAlert): string {
  return `ALERT  entry ${a.seq}: ${describe(a)} was not made by this pepkeys home. If you did not make it with another client, ` +
    `your server wrote a key event in your name. If you did: \`pepkeys key monitor --jid ${bare} --accept ${a.seq}\`.`;
}
