// `key monitor`: reads the account's entries in its domain's transparency log (incrementally, from where the
// last run stopped), each proven included in a fresh head that is proven consistent with the stored one, and
// alerts on every key event that none of this home's own writes explains (docs/transparency.md
// "Monitoring"): the attack transparency exists to catch, a server publishing a key in the user's name.
// Alerts stay pending, and the exit code 5, until the user acknowledges them with --accept. With --follow it
// stays connected and checks each head as the domain publishes it (src/client/kt-heads-follow.ts).
import { Command } from 'commander';
import { join } from 'node:path';
import { FileKtHeadStore, KtClient, KtVerifyError, followHeads } from '../../../client/index.ts';
import type { Jid } from '../../../jid/index.ts';
import type { SignedTreeHead } from '../../../transparency/tree-head.ts';
import { CliError } from '../../errors.ts';
import { KT_HEADS_FILE } from '../../kt-paths.ts';
import { alertOf, isOwn, KtMonitorFile, type MonitorAlert } from '../../kt-monitor-file.ts';
import type { KeyCommandContext } from '../context.ts';
import { EXIT_TRUST } from '../exit-codes.ts';
import { action, addCommonOptions, addConnectOptions, timeoutMs, type ConnectFlags, type Session } from '../session.ts';

interface MonitorFlags extends ConnectFlags {
  accept?: string[];
  acceptAll?: boolean;
  follow?: boolean;
  poll?: string;
}

interface CheckResult {
  head: SignedTreeHead;
  checked: number;
  own: number;
  /** Alerts this check found (not shown before). */
  fresh: MonitorAlert[];
  pending: MonitorAlert[];
  acked: MonitorAlert[];
}

/**
 * One pass: a fresh head proven consistent with the stored one, the account's entries since the last pass,
 * and the alerts they raise. The state is read after the head is fetched, so an own write recorded before its
 * publish left (by another process) is known for every event that head covers; it is saved re-read, so such a
 * record made meanwhile is kept.
 */
async function checkOnce(kt: KtClient, file: KtMonitorFile, me: Jid, ack: (a: MonitorAlert) => boolean, fresh = true): Promise<CheckResult> {
  const { head } = await kt.update(me.domain, fresh);
  const state = file.state(me.bare);
  if (head.size < state.next) throw new KtVerifyError('shrunk', `the log of ${me.domain} has ${head.size} entries, but this home already read your entries up to ${state.next}`, me.domain);
  const events = await kt.entriesOf(me.bare, head, state.next);
  const own = events.filter((e) => isOwn(state, e));
  const found = events.filter((e) => !isOwn(state, e) && !state.accepted.includes(e.seq)).map(alertOf);
  const shown = [...state.pending, ...found];
  const acked = shown.filter(ack);
  const pending = shown.filter((a) => !acked.includes(a));
  const now = file.state(me.bare);
  file.save(me.bare, { ...now, next: head.size, pending, accepted: [...now.accepted, ...acked.map((a) => a.seq)] });
  return { head, checked: events.length, own: own.length, fresh: found.filter((a) => !acked.includes(a)), pending, acked };
}

export function monitorCommand(cx: KeyCommandContext): Command {
  return addConnectOptions(addCommonOptions(new Command('monitor')
    .description("read your account's entries in your domain's transparency log and alert on every key event this home did not make (exit 5 while alerts are pending)")))
    .option('--accept <seq...>', 'acknowledge these alerts (log entry numbers): events you made yourself, e.g. with another client')
    .option('--accept-all', 'acknowledge every alert shown by this run')
    .option('--follow', "stay connected and check each tree head as your domain publishes it; an alert is printed as soon as the event is in the log; Ctrl-C ends it (exit 5 if alerts are pending)")
    .option('--poll <seconds>', 'with --follow, when the domain refuses a subscription to its heads node: check this often', '60')
    .action(action(async (flags: MonitorFlags) => {
      const me = cx.account(flags);
      const file = KtMonitorFile.inHome(cx.home(flags).dir);
      const accept = new Set((flags.accept ?? []).map((s) => {
        const n = Number(s);
        if (!Number.isSafeInteger(n) || n < 0) throw new CliError(`--accept ${s}: expected a log entry number`);
        return n;
      }));
      const ack = (a: MonitorAlert) => !!flags.acceptAll || accept.has(a.seq);
      const failed = (e: unknown): never => {
        if (e instanceof KtVerifyError) {
          if (flags.json) (flags.follow ? cx.out.jsonLine : cx.out.json).call(cx.out, { ok: false, jid: me.bare, code: e.code, error: e.message });
          throw new CliError(`monitoring ${me.bare} failed: ${e.message}`, EXIT_TRUST);
        }
        throw e;
      };
      if (flags.follow) {
        const pollMs = Number(flags.poll) * 1000;
        if (!(pollMs > 0)) throw new CliError(`--poll ${flags.poll}: expected a positive number of seconds`);
        await cx.withSession(flags, (s) => follow(cx, s, file, me, ack, pollMs, flags).catch(failed));
        if (file.state(me.bare).pending.length) cx.exitCode = EXIT_TRUST;
        return;
      }
      const r = await cx.withSession(flags, (s) => checkOnce(new KtClient(s.client, new FileKtHeadStore(join(s.home.dir, KT_HEADS_FILE)), timeoutMs(flags)), file, me, ack).catch(failed));
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

/**
 * `--follow`: one pass now (pending alerts shown), then one per published head, one at a time; a head
 * notified while a pass runs is caught by one more pass after it. With --json, one object per line:
 * `{"event":"alert",...}` per alert, then `{"event":"head",...}` closing each pass.
 */
async function follow(cx: KeyCommandContext, s: Session, file: KtMonitorFile, me: Jid, ack: (a: MonitorAlert) => boolean, pollMs: number, flags: MonitorFlags): Promise<void> {
  const kt = new KtClient(s.client, new FileKtHeadStore(join(s.home.dir, KT_HEADS_FILE)), timeoutMs(flags));
  let finish!: (err?: unknown) => void;
  const done = new Promise<void>((resolve, reject) => (finish = (err) => (err ? reject(err) : resolve())));
  const report = (r: CheckResult, first: boolean) => {
    const alerts = first ? r.pending : r.fresh;
    const time = new Date().toISOString();
    if (flags.json) {
      // The head line last: it marks the end of a pass.
      for (const a of alerts) cx.out.jsonLine({ event: 'alert', jid: me.bare, ...a });
      cx.out.jsonLine({ event: 'head', time, domain: r.head.domain, size: r.head.size, checked: r.checked, own: r.own, pending: r.pending.length });
    } else {
      if (first) cx.out.line(`The log of ${r.head.domain} (${r.head.size} entries) holds ${r.checked} new entr${r.checked === 1 ? 'y' : 'ies'} about ${me.bare}, ${r.own} made by this home; ${r.pending.length} alert${r.pending.length === 1 ? '' : 's'} pending.`);
      for (const a of r.acked) cx.out.line(`accepted: entry ${a.seq} (${describe(a)})`);
      for (const a of alerts) cx.out.line(`${time}  ${alertLine(me.bare, a)}`);
    }
  };
  // Passes run one at a time; `again` coalesces the heads notified during one into a single next pass.
  let running: Promise<void> | undefined;
  let again = false;
  const pass = (first = false): void => {
    if (running) {
      again = true;
      return;
    }
    running = checkOnce(kt, file, me, first ? ack : () => false, first)
      .then((r) => report(r, first))
      .catch((e) => finish(e))
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          pass();
        }
      });
  };
  const follower = await followHeads(s.client, me.domain, () => pass(), { pollMs, timeoutMs: timeoutMs(flags) });
  if (follower.mode === 'polling') cx.out.warn(`${me.domain} refused a subscription to its tree heads (${follower.reason}); checking every ${pollMs / 1000} s instead`);
  const offs = [cx.io.onSignal('SIGINT', () => finish()), cx.io.onSignal('SIGTERM', () => finish())];
  const onClose = (err?: Error) => finish(err ?? new CliError('the connection closed'));
  s.client.on('close', onClose);
  try {
    pass(true);
    cx.out.info(`following the transparency log of ${me.domain} for ${me.bare}; Ctrl-C to stop`);
    await done;
  } finally {
    for (const off of offs) off();
    s.client.off('close', onClose);
    await follower.stop();
    await running;
  }
}

function describe(a: MonitorAlert): string {
  return `${a.type} of item ${a.item || '(none)'} on ${a.node}${a.fingerprint ? `, key ${a.fingerprint}` : ''}, at ${a.time}`;
}

function alertLine(bare: string, a: MonitorAlert): string {
  return `ALERT  entry ${a.seq}: ${describe(a)} was not made by this pepkeys home. If you did not make it with another client, ` +
    `your server wrote a key event in your name. If you did: \`pepkeys key monitor --jid ${bare} --accept ${a.seq}\`.`;
}
