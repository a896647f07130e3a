// What a new <pubkey/> of ours says besides the key (`generate`, and `import` of a bare PEM private key):
// validity from now (--valid-days) and payload version (--key-version; 2 for RSA, 1 for Ed25519 by default).
import type { KeyObject } from 'node:crypto';
import { createPubkey, type KeyKind, type PayloadVersion, type Pubkey } from '../../keys/index.ts';
import { CliError } from '../errors.ts';

export interface PubkeySettingsFlags {
  validDays: string;
  keyVersion?: string;
}

/** Checks the flags for a key of `kind` before anything slow happens; returns the maker of the <pubkey/>. */
export function pubkeySettings(flags: PubkeySettingsFlags, kind: KeyKind): (publicKey: KeyObject, bare: string) => Pubkey {
  const days = Number(flags.validDays);
  if (!(days > 0)) throw new CliError(`--valid-days ${flags.validDays}: expected a positive number`);
  const version = (flags.keyVersion ? Number(flags.keyVersion) : kind === 'rsa' ? 2 : 1) as PayloadVersion;
  if (version === 2 && kind !== 'rsa') throw new CliError('urn:xmpp:pubkey:2 can only carry RSA keys; use --key-version 1 for Ed25519');
  return (publicKey, bare) => {
    const begin = new Date();
    return createPubkey({ publicKey, jid: bare, begin, end: new Date(begin.getTime() + days * 86_400_000), version });
  };
}
