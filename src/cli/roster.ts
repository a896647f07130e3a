// `pepkeys roster add|del|list`: an account's roster, for operators and the walkthrough. Through the running
// server's admin socket when one runs on the data directory (changes are pushed to the account's clients);
// on the database directly otherwise. The semantics are in server/modules/roster/admin.ts.
import { Command, Option } from 'commander';
import type { z } from 'zod';
import { AdminError } from '../server/admin/errors.ts';
import {
  addRosterItem, changeJson, itemJson, removeRosterItem, rosterAddArgs, rosterDelArgs, rosterListArgs, storeRosterOps, type RosterOps,
} from '../server/modules/roster/admin.ts';
import { adminRequestIfRunning } from './admin-client.ts';
import { addConfigOptions, collect, configFrom, type ConfigFlags } from './common.ts';
import { CliError } from './errors.ts';
import type { CliContext, CliIo } from './io.ts';
import { withStorage } from './user.ts';

type ItemJson = ReturnType<typeof itemJson>;
type ChangeJson = ReturnType<typeof changeJson>;
interface Flags extends ConfigFlags {
  group?: string[];
  name?: string;
  subscription?: 'none' | 'to' | 'from' | 'both';
  json?: boolean;
}

export function rosterCommand(ctx: CliContext): Command {
  const { io } = ctx;
  const roster = new Command('roster').description("manage an account's roster (pushed to its clients when the server runs)");

  addConfigOptions(roster.command('add').description("add CONTACT to OWNER's roster, or change the item").argument('<owner>', 'the account, e.g. juliet@capulet.lit').argument('<contact>', 'bare JID of the contact'))
    .option('--group <group>', 'roster group; repeat for several (replaces the groups of an existing item)', collect)
    .option('--name <name>', 'display name of the contact')
    .addOption(new Option('--subscription <state>', "presence subscription; a local contact's item is set to match (both ↔ both, to ↔ from)").choices(['both', 'from', 'to', 'none']))
    .option('--json', 'machine-readable JSON on stdout')
    .action(async (owner: string, contact: string, flags: Flags) => {
      const args = { owner, contact, groups: flags.group, name: flags.name, subscription: flags.subscription };
      await change(flags, io, 'roster.add', args, async (ops) => (await addRosterItem(ops, parse(rosterAddArgs, args))).map(changeJson));
    });

  addConfigOptions(roster.command('del').alias('delete').description("remove CONTACT from OWNER's roster, cancelling the subscriptions both ways").argument('<owner>', 'the account').argument('<contact>', 'bare JID of the contact'))
    .option('--json', 'machine-readable JSON on stdout')
    .action(async (owner: string, contact: string, flags: Flags) => {
      const args = { owner, contact };
      await change(flags, io, 'roster.del', args, async (ops) => (await removeRosterItem(ops, parse(rosterDelArgs, args))).map(changeJson));
    });

  addConfigOptions(roster.command('list').alias('ls').description("print OWNER's roster, one item per line").argument('<owner>', 'the account'))
    .option('--json', 'machine-readable JSON on stdout')
    .action(async (owner: string, flags: Flags) => {
      const config = configFrom(flags);
      const running = await adminRequestIfRunning<{ items: ItemJson[] }>(config, 'roster.list', { owner });
      const items = running?.result.items ?? (await direct(config, io, async (ops) => {
        const { owner: bare } = parse(rosterListArgs, { owner });
        if (!(await ops.accountExists(bare))) throw new CliError(`no account ${bare}`);
        return (await ops.getAll(bare)).map(itemJson);
      }));
      if (flags.json) io.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
      else for (const i of items) io.stdout.write(`${describe(i)}\n`);
    });

  return roster;
}

/** Runs a change on the running server, or on the database when none runs, and prints each item changed. */
async function change(flags: Flags, io: CliIo, command: string, args: Record<string, unknown>, offline: (ops: RosterOps) => Promise<ChangeJson[]>): Promise<void> {
  const config = configFrom(flags);
  const running = await adminRequestIfRunning<{ changes: ChangeJson[] }>(config, command, args);
  const changes = running?.result.changes ?? (await direct(config, io, offline));
  if (flags.json) io.stdout.write(`${JSON.stringify(changes, null, 2)}\n`);
  else for (const c of changes) io.stdout.write(`${c.owner}: ${c.item ? describe(c.item) : `removed ${c.contact}`}\n`);
  if (!running) io.stderr.write('pepkeys: no server is running: written to the database; clients see it at their next login\n');
}

async function direct<T>(config: ReturnType<typeof configFrom>, io: CliIo, fn: (ops: RosterOps) => Promise<T>): Promise<T> {
  try {
    return await withStorage(config, false, io, (s) => fn(storeRosterOps(s)));
  } catch (err) {
    if (err instanceof AdminError) throw new CliError(err.message);
    throw err;
  }
}

/** `JID "Name" [Group, …] subscription both`: one line per item. */
function describe(i: ItemJson): string {
  const parts = [String(i.jid)];
  if (i.name) parts.push(JSON.stringify(i.name));
  const groups = i.groups as string[];
  if (groups.length) parts.push(`[${groups.join(', ')}]`);
  parts.push(`subscription ${i.subscription}`);
  if (i.ask) parts.push('(asked)');
  return parts.join(' ');
}

function parse<S extends z.ZodType>(schema: S, args: unknown): z.output<S> {
  const r = schema.safeParse(args);
  if (!r.success) throw new CliError(r.error.issues.map((i) => i.message).join('; '));
  return r.data;
}
