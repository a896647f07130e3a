// The `pepkeys` command tree. Kept apart from main.ts so it can be built without running it.
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { serveCommand } from './serve.ts';
import { userCommand } from './user.ts';
import { keyCommand } from './key.ts';
import { fail, formatCommanderError } from './errors.ts';

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export function buildProgram(): Command {
  const program = new Command('pepkeys')
    .description('XMPP server with a persistent PEP service, and tools for XEP-0189 public keys')
    .version(version(), '-V, --version')
    .showSuggestionAfterError(true)
    .addCommand(serveCommand())
    .addCommand(userCommand())
    .addCommand(keyCommand());
  // Every command, subcommands included, reports usage errors in our one-line shape and throws instead of
  // calling process.exit, so run() decides the exit code in one place.
  const configure = (cmd: Command) => {
    cmd.exitOverride().configureOutput({ outputError: (str, write) => write(formatCommanderError(str)) });
    cmd.commands.forEach(configure);
  };
  configure(program);
  return program;
}

/** Parses argv (as process.argv) and runs the command; failures set process.exitCode, never throw. */
export async function run(argv: string[] = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    // --help and --version arrive here too, as CommanderErrors with exit code 0.
    if (err instanceof CommanderError && err.exitCode === 0) return;
    fail(err);
  }
}
