// The `key` command group (issue 6), one file per command under key/commands/; registered by src/cli/program.ts.
import { Command } from 'commander';
import type { CliContext } from './io.ts';
import { KeyCommandContext } from './key/context.ts';
import { generateCommand } from './key/commands/generate.ts';
import { publishCommand } from './key/commands/publish.ts';
import { listCommand } from './key/commands/list.ts';
import { fetchCommand } from './key/commands/fetch.ts';
import { revokeCommand } from './key/commands/revoke.ts';
import { attestCommand } from './key/commands/attest.ts';
import { verifyCommand } from './key/commands/verify.ts';
import { trustCommand } from './key/commands/trust.ts';
import { forgetCommand } from './key/commands/forget.ts';
import { watchCommand } from './key/commands/watch.ts';
import { sendCommand } from './key/commands/send.ts';
import { exportCommand } from './key/commands/export.ts';
import { importCommand } from './key/commands/import.ts';
import { passwdCommand } from './key/commands/passwd.ts';
import { monitorCommand } from './key/commands/monitor.ts';

export function keyCommand(ctx: CliContext): Command {
  const cx = new KeyCommandContext(ctx);
  const key = new Command('key').description('XEP-0189 public keys: generate, publish, fetch, revoke, attest, trust, export, import (see docs/cli-keys.md)');
  for (const make of [generateCommand, publishCommand, listCommand, fetchCommand, revokeCommand, attestCommand, verifyCommand, trustCommand, forgetCommand, watchCommand, sendCommand, exportCommand, importCommand, passwdCommand, monitorCommand]) {
    key.addCommand(make(cx));
  }
  return key;
}
