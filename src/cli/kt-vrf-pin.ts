// A domain's VRF public key, pinned on first use in HOME/kt-vrf-keys.json (like the log key in kt-heads.json):
// shared by `kt lookup` and `key fetch --verify-map`. A domain that later serves another key cannot have its
// labels checked any more: that is a failure, never a silent re-pin.
import { join } from 'node:path';
import { x, type Element } from '../xml/index.ts';
import { readJsonFile, writeJsonFile } from '../client/private-json-file.ts';
import { NS_KT } from '../transparency/protocol.ts';
import { parseVrfKey } from '../transparency/vrf-key.ts';
import { equalHashes } from '../transparency/hash.ts';

export const KT_VRF_KEYS_FILE = 'kt-vrf-keys.json';
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export interface VrfPin {
  /** The key to check labels with: the pinned one, or the served one on first use. */
  vrfKey: Uint8Array;
  served: Uint8Array;
  /** True when `served` differs from the pinned key. */
  changed: boolean;
  /** True when nothing was pinned for the domain yet. */
  firstUse: boolean;
  file: string;
  /** Pins `served` (call after a lookup verified with it). */
  pin(): void;
}

export async function vrfPin(ask: (payload: Element) => Promise<Element>, homeDir: string, domain: string): Promise<VrfPin> {
  const file = join(homeDir, KT_VRF_KEYS_FILE);
  const served = parseVrfKey((await ask(x('vrf-key', { xmlns: NS_KT }))).getChild('vrf-key', NS_KT)!);
  const pinned = readJsonFile<string>(file);
  const vrfKey = pinned[domain] ? new Uint8Array(Buffer.from(pinned[domain], 'hex')) : served;
  return {
    vrfKey, served, file, changed: !equalHashes(vrfKey, served), firstUse: !pinned[domain],
    pin: () => {
      if (!pinned[domain]) writeJsonFile(file, { ...readJsonFile<string>(file), [domain]: hex(served) });
    },
  };
}
