// `pepkeys kt audit DOMAIN`: downloads a domain's key-transparency log, decodes every leaf, recomputes the
// root and checks it against the latest signed head (signature, and the log key pinned on first use), and
// proves that head consistent with the one the previous audit stored (docs/cli.md, docs/transparency.md).
// After a first audit only the entries after the audited head are downloaded (HOME/kt-audit.json); --full
// downloads everything again.
import { Command } from 'commander';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FileKtHeadStore, KtAuditStateFile, KtClient, KtVerifyError } from '../client/index.ts';
import { logKeyId } from '../transparency/tree-head.ts';
import { CliError } from './errors.ts';
import { KT_AUDIT_FILE, KT_HEADS_FILE } from './kt-paths.ts';
import { gossipCommand } from './kt-gossip.ts';
import { lookupCommand } from './kt-map.ts';
import { addConfigOptions, configFrom, type ConfigFlags } from './common.ts';
import { rotateLogKey, rotationsPath } from '../server/modules/transparency/key-rotations.ts';
import { KeyCommandContext } from './key/context.ts';
import { EXIT_TRUST } from './key/exit-codes.ts';
import { action, addCommonOptions, addConnectOptions, timeoutMs, type ConnectFlags } from './key/session.ts';
import type { CliContext } from './io.ts';


const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function auditCommand(cx: KeyCommandContext): Command {
  return addConnectOptions(addCommonOptions(new Command('audit')
    .description("check DOMAIN's key-transparency log: download the entries after your last audit (all of them the first time), recompute the root, and check it against the signed head and the previous audit")
    .argument('<domain>', 'the domain whose log to audit, e.g. capulet.lit')))
    .option('--full', 'download and check the whole log again, not only the entries after the last audit')
    .action(action(async (domainArg: string, flags: ConnectFlags & { full?: boolean }) => {
      const domain = domainArg.toLowerCase();
      const dir = cx.home(flags).dir;
      const store = new FileKtHeadStore(join(dir, KT_HEADS_FILE));
      const state = new KtAuditStateFile(join(dir, KT_AUDIT_FILE));
      await cx.withSession(flags, async (s) => {
        const kt = new KtClient(s.client, store, timeoutMs(flags));
        const from = flags.full ? undefined : state.get(domain);
        const started = performance.now();
        try {
          const r = await kt.audit(domain, undefined, from);
          state.put(r.checkpoint);
          const seconds = (performance.now() - started) / 1000;
          const rate = seconds > 0 ? Math.round(r.entries / seconds) : r.entries;
          const summary = {
            ok: true, domain: r.head.domain, size: r.head.size, root: hex(r.head.root), time: new Date(r.head.time).toISOString(),
            logKey: logKeyId(r.head.key), firstAudit: !r.previous, previousSize: r.previous?.size ?? null,
            incremental: !!from, start: r.start, checked: r.entries, types: r.types,
            seconds: Number(seconds.toFixed(3)), entriesPerSecond: rate,
          };
          if (flags.json) return cx.out.json(summary);
          cx.out.line(`The log of ${summary.domain} checks out: ${summary.size} entries, root ${summary.root}, signed ${summary.time}.`);
          cx.out.line(r.previous
            ? `It extends the ${r.previous.size} entries of your previous audit.`
            : `First audit of ${summary.domain}: its log key ${summary.logKey} is now pinned; later audits refuse heads signed by another key.`);
          if (from) cx.out.line(`Incremental: the ${from.head.size} entries audited ${new Date(from.auditedAt).toISOString()} are proven a prefix of this log; only entries ${r.start} to ${r.head.size - 1} were downloaded (--full checks all again).`);
          const kinds = Object.entries(r.types).map(([t, n]) => `${n} ${t}`).join(', ');
          if (kinds) cx.out.line(`Events${from ? ' among them' : ''}: ${kinds}.`);
          cx.out.line(`Checked ${summary.checked} entries in ${summary.seconds} s (${rate} entries/s).`);
        } catch (e) {
          if (!(e instanceof KtVerifyError)) throw e;
          if (flags.json) cx.out.json({ ok: false, domain, code: e.code, error: e.message });
          throw new CliError(`audit of ${domain} failed: ${e.message}`, EXIT_TRUST);
        }
      });
    }));
}

/** `kt head DOMAIN`: a fresh head, checked (signature, pinned key) and proven consistent with the stored one, then stored. */
function headCommand(cx: KeyCommandContext): Command {
  return addConnectOptions(addCommonOptions(new Command('head')
    .description("fetch DOMAIN's latest signed tree head, prove it consistent with the one you verified before, and keep it (what `kt gossip` publishes)")
    .argument('<domain>', 'e.g. capulet.lit')))
    .action(action(async (domain: string, flags: ConnectFlags) => {
      const store = new FileKtHeadStore(join(cx.home(flags).dir, KT_HEADS_FILE));
      await cx.withSession(flags, async (s) => {
        const kt = new KtClient(s.client, store, timeoutMs(flags));
        try {
          const { head, previous } = await kt.update(domain.toLowerCase(), true);
          const rotations = (kt.rotated.get(head.domain) ?? []).map((r) => ({ from: logKeyId(r.oldKey), to: logKeyId(r.newKey), time: new Date(r.time).toISOString() }));
          const out = { ok: true, domain: head.domain, size: head.size, root: hex(head.root), time: new Date(head.time).toISOString(), logKey: logKeyId(head.key), previousSize: previous?.size ?? null, rotations };
          if (flags.json) return cx.out.json(out);
          cx.out.line(`${out.domain}: ${out.size} entries, root ${out.root}, signed ${out.time} by log key ${out.logKey}.`);
          for (const r of rotations) cx.out.line(`The log key changed from ${r.from} to ${r.to} at ${r.time}, in a statement signed by the old key: the new key is now pinned.`);
          cx.out.line(previous ? `It extends the head of ${previous.size} entries you verified before.` : `First head of ${out.domain}: its log key is now pinned.`);
        } catch (e) {
          if (!(e instanceof KtVerifyError)) throw e;
          if (flags.json) cx.out.json({ ok: false, domain, code: e.code, error: e.message });
          throw new CliError(`the head of ${domain} failed verification: ${e.message}`, EXIT_TRUST);
        }
      });
    }));
}

/** `kt rotate-key DOMAIN`: the operator's signed rotation of a domain's log key (server stopped). */
function rotateKeyCommand(ctx: CliContext): Command {
  return addConfigOptions(new Command('rotate-key')
    .description("replace DOMAIN's transparency log key with a new one, signed over by the old one (stop the server first)")
    .argument('<domain>', 'a served domain'))
    .action(async (domain: string, flags: ConfigFlags) => {
      const config = configFrom(flags);
      const d = domain.toLowerCase();
      if (!config.hosts.includes(d)) throw new CliError(`${d} is not a served domain (${config.hosts.join(', ')})`);
      const { rotation, retired } = rotateLogKey(config.data_dir, d);
      ctx.io.stdout.write(`rotated the log key of ${d}: ${logKeyId(rotation.oldKey)} -> ${logKeyId(rotation.newKey)}\n` +
        `the old key is kept as ${retired}; the statement is in ${rotationsPath(config.data_dir, d)}\n`);
    });
}

export function ktCommand(ctx: CliContext): Command {
  const cx = new KeyCommandContext(ctx);
  return new Command('kt').description('key transparency: audit a domain\'s log, check its head, gossip heads with contacts (see docs/transparency.md)')
    .addCommand(auditCommand(cx)).addCommand(headCommand(cx)).addCommand(gossipCommand(cx)).addCommand(rotateKeyCommand(ctx))
    .addCommand(lookupCommand(cx));
}
