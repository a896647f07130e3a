// Options shared by several commands and the config resolution they feed.
import type { Command } from 'commander';
import { resolveConfig, type ConfigOverrides, type ServerConfig } from '../server/config.ts';

/** Commander accumulator for repeatable flags (`--host a --host b`); variadic flags would swallow positional arguments. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export interface ConfigFlags {
  config?: string;
  data?: string;
  host?: string[];
}

/** --config, --data and the repeatable --host: how every command finds the same database and hosts. */
export function addConfigOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'TOML configuration file (see docs/configuration.md)')
    .option('-d, --data <dir>', 'data directory, overriding data_dir (default: ./data)')
    .option('--host <domain>', 'served domain, overriding hosts; repeat for virtual hosts', collect);
}

export function configFrom(flags: ConfigFlags, extra: Omit<ConfigOverrides, 'data' | 'hosts'> = {}): ServerConfig {
  return resolveConfig(flags.config, { ...extra, data: flags.data, hosts: flags.host });
}
