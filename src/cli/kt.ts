// `pepkeys kt audit DOMAIN`: downloads a domain's whole key-transparency log, decodes every leaf, recomputes
// the root and checks it against the latest signed head (signature, and the log key pinned on first use),
// and proves that head consistent with the one the previous audit stored (docs/cli.md, docs/transparency.md).
import { Command } from 'commander';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FileKtHeadStore, KtClient, KtVerifyError } from '../client/index.ts';
import { logKeyId } from '../transparency/tree-head.ts';
import { CliError } from './errors.ts';
import { KT_HEADS_FILE } from './kt-paths.ts';
import { KeyCommandContext } from './key/context.ts';
import { EXIT_TRUST } from './key/exit-codes.ts';
import { action, addCommonOptions, addConnectOptions, timeoutMs, type ConnectFlags } from './key/session.ts';
import type { CliContext } from './io.ts';


const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function auditCommand(cx: KeyCommandContext): Command {
  return addConnectOptions(addCommonOptions(new Command('audit')
    .description("download DOMAIN's whole key-transparency log, recompute its root, and check it against the signed head and the previous audit")
    .argument('<domain>', 'the domain whose log to audit, e.g. capulet.lit')))
    .action(action(async (domain: string, flags: ConnectFlags) => {
      const store = new FileKtHeadStore(join(cx.home(flags).dir, KT_HEADS_FILE));
      await cx.withSession(flags, async (s) => {
        const kt = new KtClient(s.client, store, timeoutMs(flags));
        const started = performance.now();
        try {
          const r = await kt.audit(domain.toLowerCase());
          const seconds = (performance.now() - started) / 1000;
          const rate = seconds > 0 ? Math.round(r.entries / seconds) : r.entries;
          const summary = {
            ok: true, domain: r.head.domain, size: r.head.size, root: hex(r.head.root), time: new Date(r.head.time).toISOString(),
            logKey: logKeyId(r.head.key), firstAudit: !r.previous, previousSize: r.previous?.size ?? null, types: r.types,
            seconds: Number(seconds.toFixed(3)), entriesPerSecond: rate,
          };
          if (flags.json) return cx.out.json(summary);
          cx.out.line(`The log of ${summary.domain} checks out: ${summary.size} entries, root ${summary.root}, signed ${summary.time}.`);
          cx.out.line(r.previous
            ? `It extends the ${r.previous.size} entries of your previous audit.`
            : `First audit of ${summary.domain}: its log key ${summary.logKey} is now pinned; later audits refuse heads signed by another key.`);
          const kinds = Object.entries(r.types).map(([t, n]) => `${n} ${t}`).join(', ');
          if (kinds) cx.out.line(`Events: ${kinds}.`);
          cx.out.line(`Checked ${summary.size} entries in ${summary.seconds} s (${rate} entries/s).`);
        } catch (e) {
          if (!(e instanceof KtVerifyError)) throw e;
          if (flags.json) cx.out.json({ ok: false, domain, code: e.code, error: e.message });
          throw new CliError(`audit of ${domain} failed: ${e.message}`, EXIT_TRUST);
        }
      });
    }));
}

export function ktCommand(ctx: CliContext): Command {
  const cx = new KeyCommandContext(ctx);
  return new Command('kt').description('key transparency: audit a domain\'s log (see docs/transparency.md)').addCommand(auditCommand(cx));
}
