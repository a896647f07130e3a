// Whom an account refuses to deal with, as one question any module may ask: "does OWNER block ENTITY?".
// The roster module holds the registry (every module that shares presence or data already requires it);
// a module that keeps a blocklist (blocking/, XEP-0191) adds its rule and reports its changes, and modules
// that decide access (pep/) ask and listen. So neither knows the other, and without a blocking module the
// answer is simply no.
import { bareOf } from '../../../jid/index.ts';
import { serviceKey } from '../../core/module-host.ts';

/** Does `owner` (bare JID) block `entity` (a normalised full, bare or domain JID)? */
export type BlockRule = (owner: string, entity: string) => boolean | Promise<boolean>;

/** `entity` undefined: the owner's whole list changed. */
export type PrivacyListener = (owner: string, entity: string | undefined) => void | Promise<void>;

export interface PrivacyService {
  blocks(owner: string, entity: string): Promise<boolean>;
  /** Either blocks the other: what privacy asks of data shared between two accounts (XEP-0191 §3.3). */
  eitherBlocks(a: string, b: string): Promise<boolean>;
  addRule(rule: BlockRule): void;
  onChanged(listener: PrivacyListener): void;
  /** Called by the module whose rule changed, once the change is stored. */
  changed(owner: string, entity: string | undefined): Promise<void>;
}

export const PrivacyService = serviceKey<PrivacyService>('privacy');

export function createPrivacy(): PrivacyService {
  const rules: BlockRule[] = [];
  const listeners: PrivacyListener[] = [];
  const blocks = async (owner: string, entity: string) => {
    for (const r of rules) if (await r(owner, entity)) return true;
    return false;
  };
  return {
    blocks,
    eitherBlocks: async (a, b) => (await blocks(bareOf(a), b)) || (await blocks(bareOf(b), a)),
    addRule: (rule) => void rules.push(rule),
    onChanged: (listener) => void listeners.push(listener),
    async changed(owner, entity) {
      for (const l of listeners) await l(owner, entity);
    },
  };
}
