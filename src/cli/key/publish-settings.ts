// The access flags of `publish`, `revoke` and `attest` (--access, --group, --allow, --reconfigure, --force):
// remembered per account, so a later publish keeps the audience of the last one.
import { Command, Option } from 'commander';
import { parseJid } from '../../jid/index.ts';
import { ACCESS_MODELS, type AccessModel, type PublishOptions } from '../../client/index.ts';
import { CliError } from '../errors.ts';
import { collect } from '../common.ts';
import type { PublishSettings } from './home.ts';
import type { ConnectFlags } from './session.ts';

export interface PublishFlags extends ConnectFlags {
  access?: AccessModel;
  group?: string[];
  allow?: string[];
  reconfigure?: boolean;
  force?: boolean;
}

export function addPublishOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--access <model>', 'who may read: open, presence (contacts subscribed to you), roster (only --group), whitelist (only --allow); default: as last published, else presence').choices([...ACCESS_MODELS]))
    .option('--group <name>', 'roster group allowed by --access roster; repeatable', collect)
    .option('--allow <jid>', 'JID allowed by --access whitelist; repeatable', collect)
    .option('--reconfigure', 'if the node exists with other options, change its configuration instead of failing')
    .option('--force', "publish even if the server's PEP lacks publish-options (XEP-0222 §5 advises against it)");
}

/** The flags given, else the settings of the last publish, else presence. */
export function publishSettings(flags: PublishFlags, previous: PublishSettings | undefined): PublishSettings {
  const access = flags.access ?? previous?.access ?? 'presence';
  const s: PublishSettings = { access };
  const groups = flags.group ?? (flags.access ? undefined : previous?.groups);
  const allow = flags.allow ?? (flags.access ? undefined : previous?.allow);
  if (access === 'roster') {
    if (!groups?.length) throw new CliError('--access roster needs at least one --group (the roster groups that may read your key)');
    s.groups = groups;
  }
  if (access === 'whitelist') s.allow = (allow ?? []).map((j) => parseJid(j).bare);
  if (flags.group && access !== 'roster') throw new CliError('--group only applies to --access roster');
  if (flags.allow && access !== 'whitelist') throw new CliError('--allow only applies to --access whitelist');
  return s;
}

export function publishOptions(s: PublishSettings, flags: PublishFlags): PublishOptions {
  const o: PublishOptions = { accessModel: s.access, persistItems: true, sendLastPublishedItem: 'never' };
  if (s.groups) o.rosterGroups = s.groups;
  if (s.allow) o.whitelist = s.allow;
  if (flags.reconfigure) o.reconfigure = true;
  if (flags.force) o.force = true;
  return o;
}
