// The `pepkeys` command tree. Kept apart from main.ts so it can be built and run without a process of its own:
// everything it reads or writes goes through the CliIo it is given.
import { Command, CommanderError } from 'commander';
import { serveCommand } from './serve.ts';
import { userCommand } from './user.ts';
import { keyCommand } from './key.ts';
import { checkCommand } from './check.ts';
import { certCommand } from './cert.ts';
import { backupCommand, restoreCommand } from './backup.ts';
import { statusCommand } from './status.ts';
import { rosterCommand } from './roster.ts';
import { s2sCommand } from './s2s.ts';
import { clusterCommand } from './cluster.ts';
import { ktCommand } from './kt.ts';
import { packageVersion } from '../server/version.ts';
import { fail, formatCommanderError } from './errors.ts';
import type { CliContext, CliIo } from './io.ts';

export function createProgram(ctx: CliContext): Command {
  const program = new Command('pepkeys')
    .description('XMPP server with a persistent PEP service, and tools for XEP-0189 public keys')
    .version(packageVersion(), '-V, --version')
    .showSuggestionAfterError(true)
    .addCommand(serveCommand(ctx))
    .addCommand(userCommand(ctx))
    .addCommand(keyCommand(ctx))
    .addCommand(checkCommand(ctx))
    .addCommand(certCommand(ctx))
    .addCommand(backupCommand(ctx))
    .addCommand(restoreCommand(ctx))
    .addCommand(statusCommand(ctx))
    .addCommand(rosterCommand(ctx))
    .addCommand(s2sCommand(ctx))
    .addCommand(clusterCommand(ctx))
    .addCommand(ktCommand(ctx));
  // Every command, subcommands included, reports usage errors in our one-line shape and throws instead of
  // calling process.exit, so run() decides the exit code in one place; help and errors go to the run's io.
  const { stdout, stderr } = ctx.io;
  const configure = (cmd: Command) => {
    cmd.exitOverride().configureOutput({
      writeOut: (str) => void stdout.write(str),
      writeErr: (str) => void stderr.write(str),
      outputError: (str, write) => write(formatCommanderError(str)),
    });
    cmd.commands.forEach(configure);
  };
  configure(program);
  return program;
}

/** Parses argv (as process.argv: node, script, args...) and runs the command; returns the exit code, never throws. */
export async function run(argv: string[], io: CliIo): Promise<number> {
  const ctx: CliContext = { io, exitCode: 0 };
  try {
    await createProgram(ctx).parseAsync(argv);
    return ctx.exitCode;
  } catch (err) {
    // --help and --version arrive here too, as CommanderErrors with exit code 0.
    if (err instanceof CommanderError && err.exitCode === 0) return 0;
    return fail(err, io);
  }
}
