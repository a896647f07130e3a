// `pepkeys backup FILE` and `pepkeys restore FILE`: the SQLite store, online (backup) and atomically
// (restore, with the server stopped). PostgreSQL has its own tools: pg_dump and pg_restore.
import { Command } from 'commander';
import { resolve } from 'node:path';
import { storagePath, type ServerConfig } from '../server/config.ts';
import { addConfigOptions, configFrom, type ConfigFlags } from './common.ts';
import { CliError } from './errors.ts';
import type { CliContext } from './io.ts';
import { backupSqlite, restoreSqlite } from './ops/sqlite-backup.ts';

interface ForceFlags extends ConfigFlags {
  force?: boolean;
}

function sqliteOnly(config: ServerConfig, what: string): string {
  if (config.storage.driver !== 'sqlite') {
    throw new CliError(`storage.driver is "${config.storage.driver}": ${what} with pg_dump / pg_restore (see docs/operations.md, Backups)`);
  }
  return storagePath(config);
}

export function backupCommand(ctx: CliContext): Command {
  const { io } = ctx;
  return addConfigOptions(new Command('backup').description('copy the SQLite database to FILE, safely while the server runs').argument('<file>', 'backup file to write (0600)'))
    .option('--force', 'replace FILE if it exists')
    .action(async (file: string, flags: ForceFlags) => {
      const config = configFrom(flags);
      const source = sqliteOnly(config, 'back it up');
      const dest = resolve(file);
      const r = await backupSqlite(source, dest, { force: flags.force, dataDir: resolve(config.data_dir) });
      io.stdout.write(`backed up ${source} to ${dest} (${Math.ceil(r.bytes / 1024)} KiB, schema version ${r.schemaVersion})\n`);
      if (r.logKeys.length) io.stdout.write(`with the transparency keys ${r.logKeys.join(', ')}\n`);
    });
}

export function restoreCommand(ctx: CliContext): Command {
  const { io } = ctx;
  return addConfigOptions(new Command('restore').description('replace the SQLite database with a backup made by `pepkeys backup` (the server must be stopped)').argument('<file>', 'backup file'))
    .option('--force', 'replace an existing database (it is kept beside, renamed)')
    .action(async (file: string, flags: ForceFlags) => {
      const config = configFrom(flags);
      const target = sqliteOnly(config, 'restore it');
      const r = restoreSqlite(resolve(file), target, resolve(config.data_dir), { force: flags.force });
      const upgrade = r.schemaVersion < r.latestSchemaVersion ? `; migrated to ${r.latestSchemaVersion} at the next start` : '';
      io.stdout.write(`restored ${resolve(file)} (schema version ${r.schemaVersion}) to ${target}${upgrade}\n`);
      if (r.replaced) io.stdout.write(`the database it replaced is kept as ${r.replaced}\n`);
      if (r.logKeys.length) io.stdout.write(`restored the transparency keys ${r.logKeys.join(', ')} to ${resolve(config.data_dir, 'kt')} (0600)\n`);
    });
}
