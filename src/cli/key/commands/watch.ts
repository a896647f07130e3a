// `key watch`: stay online, print key, revocation and attestation events as they come, and contacts' OMEMO
// device-list changes, and answer direct key requests; ends after --count events, --duration seconds, a lost
// connection, or SIGINT/SIGTERM.
import { Command } from 'commander';
import { OmemoDeviceWatcher, RosterMirror, type OmemoDeviceChange } from '../../../client/index.ts';
import { EXIT_TRUST } from '../exit-codes.ts';
import { knownDeviceFile } from '../known-devices.ts';
import type { KeyCommandContext } from '../context.ts';
import { directAccessPolicy } from '../direct-access.ts';
import { attestationJson, keyEventJson, refusedJson, refusedLine, revocationJson, watchLine } from '../presenter.ts';
import { action, addCommonOptions, addConnectOptions, type ConnectFlags, type Session } from '../session.ts';
import type { MapChecked } from '../verify-map.ts';
import { watchPending } from '../map-watch.ts';

interface WatchFlags extends ConnectFlags {
  count?: string;
  duration?: string;
  verifyLog?: boolean;
  verifyMap?: boolean;
  strict?: boolean;
  mapWait?: string;
  mapPoll?: string;
}

export function watchCommand(cx: KeyCommandContext): Command {
  return addConnectOptions(addCommonOptions(new Command('watch').description('stay online: print key, revocation and attestation notifications as they come; answer direct key requests')))
    .option('--count <n>', 'exit after N events')
    .option('--duration <seconds>', 'exit after this long')
    .option('--verify-log', "accept a key only when it is the newest event for its PEP item in its domain's transparency log, like `key fetch --verify-log`; refused keys are printed as REFUSED and make the exit code 5")
    .option('--verify-map', "also check each key item against the domain's verifiable map, like `key fetch --verify-map` (implies --verify-log); an item not yet in the map is checked again once a map head covers it")
    .option('--strict', 'with --verify-map: refuse an item that is not yet in the map')
    .option('--map-wait <seconds>', 'with --verify-map: how long to wait for the map to cover an item not yet in it', '600')
    .option('--map-poll <seconds>', "with --verify-map: ask for the map head this often besides following the domain's map heads node", '30')
    .action(action(async (flags: WatchFlags) => {
      const me = cx.account(flags);
      const state = await cx.home(flags).state(me.bare);
      let session: Session | undefined;
      // Follows roster pushes, so a contact moved out of the allowed groups is refused from then on.
      let roster: RosterMirror | undefined;
      const directAccess = directAccessPolicy(me, () => (session ? state.publish : undefined), () => (roster ??= new RosterMirror(session!.client)).list());
      // Items not yet in the map are checked again as map heads cover them (map-pending.ts), reported as they are.
      const pending = flags.verifyMap && !flags.strict ? watchPending(cx, flags, (obj, line) => emit(obj, line)) : undefined;
      session = await cx.openSession(flags, {
        directAccess, ownKeyLoader: async (h, bare) => (await h.current(bare))?.pubkey, verifyLog: !!flags.verifyLog,
        ...(flags.verifyMap ? { verifyMap: { strict: !!flags.strict, ...(pending ? { onPending: pending.onPending } : {}) } } : {}),
      });
      const s = session;
      roster ??= new RosterMirror(s.client);
      const limit = flags.count === undefined ? Infinity : Number(flags.count);
      let seen = 0;
      let finish!: () => void;
      const done = new Promise<void>((r) => (finish = r));
      const emit = (obj: Record<string, unknown>, line: string) => {
        const time = new Date().toISOString();
        if (flags.json) cx.out.jsonLine({ time, ...obj });
        else cx.out.line(`${time}  ${line}`);
        if (++seen >= limit) finish();
      };
      s.keys.on('key', (k) => {
        // With --verify-log, the key was admitted just now, so the last entry verified is its own.
        const v = s.log?.verified.at(-1);
        const log = v && v.jid === k.jid ? { domain: v.domain, seq: v.seq, size: v.size } : undefined;
        // With --verify-map, likewise the last map check is its own.
        const m = s.map?.checked.at(-1);
        const map = m && m.jid === k.jid && log && m.seq === log.seq ? m : undefined;
        emit({ event: 'key', ...keyEventJson(k), ...(log ? { log } : {}), ...(map ? { map } : {}) },
          `${watchLine.key(k)}${log ? ` [in the log of ${log.domain}: entry ${log.seq} of ${log.size}]` : ''}${map ? ` ${mapNote(map)}` : ''}`);
      });
      s.keys.on('refused', (r) => {
        cx.exitCode = EXIT_TRUST;
        emit({ event: 'refused', ...refusedJson(r) }, refusedLine(r));
      });
      s.keys.on('revocation', (r) => emit({ event: 'revocation', ...revocationJson(r) }, watchLine.revocation(r)));
      s.keys.on('attestation', (a) => emit({ event: 'attestation', ...attestationJson(a) }, watchLine.attestation(a)));
      s.keys.on('invalid', (i) => emit({ event: 'invalid', ...i }, watchLine.invalid(i)));
      s.keys.on('generating', (g) => { if (g.generating) emit({ event: 'generating', jid: g.jid }, watchLine.generating(g.jid)); });
      new OmemoDeviceWatcher(s.client, knownDeviceFile(cx.home(flags).dir)).on('change', (c) => emit({ event: 'omemo-devices', ...c }, omemoLine(c)));
      s.client.on('close', (err) => {
        if (err) cx.out.warn(`connection lost: ${err.message}`);
        finish();
      });
      const offs = [cx.io.onSignal('SIGINT', finish), cx.io.onSignal('SIGTERM', finish)];
      const timer = flags.duration ? setTimeout(finish, Number(flags.duration) * 1000) : undefined;
      try {
        await s.keys.onlineAndReady();
        cx.out.info(`watching as ${s.jid.full}; Ctrl-C to stop`);
        await done;
      } finally {
        await pending?.stop();
        if (timer) clearTimeout(timer);
        for (const off of offs) off();
        await s.close();
      }
    }));
}

/** What the map check said of a key as it came. */
function mapNote(m: MapChecked): string {
  return m.state === 'proven'
    ? `[map: version ${m.version}, the latest at epoch ${m.epoch}: proven]`
    : `[map: not yet in it (epoch ${m.epoch} covers log size ${m.logSize}); checked again when a map head covers entry ${m.seq}]`;
}

/** One line per device-list change; a new device first, since that is what the user must check. */
function omemoLine(c: OmemoDeviceChange): string {
  const gen = c.version === 'legacy' ? 'OMEMO' : 'OMEMO 0.8+';
  if (c.firstSeen) return `${gen} devices of ${c.jid}: ${c.devices.join(', ') || 'none'} (first seen)`;
  const parts = [];
  if (c.added.length) parts.push(`NEW ${gen} device${c.added.length > 1 ? 's' : ''} ${c.added.join(', ')} on ${c.jid}: check its fingerprint with \`pepkeys key fetch ${c.jid}\``);
  if (c.removed.length) parts.push(`${gen} device${c.removed.length > 1 ? 's' : ''} ${c.removed.join(', ')} removed from ${c.jid}`);
  return parts.join('; ');
}
