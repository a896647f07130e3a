// The workload real key-publishing clients send (issue 20), the default of bench/: XEP-0222 §3 and every
// OMEMO/OpenPGP client put the publish-options form on EVERY publish (persist_items, access_model,
// send_last_published_item, max_items), the payloads are XEP-0189 <pubkey/> items carrying real keys
// (RSA-2048 and Ed25519, SubjectPublicKeyInfo in base64, made with the SDK in src/keys), and every item has
// a fresh id. `--workload legacy` keeps the earlier scenarios (options on the first publish only, a small
// <entry/> payload) as variants.
import { buildPubkey, createPubkey, generateKeyPair } from '../../src/keys/index.ts';
import { serialize } from '../../src/xml/index.ts';
import { payload, publishOptions } from './common.ts';

export type Workload = 'real' | 'legacy';

const keys: { rsa?: import('node:crypto').KeyObject; ed?: import('node:crypto').KeyObject } = {};

/** Generates the two keys once per harness run (RSA-2048 takes a moment). */
export async function prepareKeys(): Promise<void> {
  if (keys.rsa) return;
  const [rsa, ed] = await Promise.all([generateKeyPair({ type: 'rsa', bits: 2048 }), generateKeyPair({ type: 'ed25519' })]);
  keys.rsa = rsa.publicKey;
  keys.ed = ed.publicKey;
}

const cache = new Map<string, [string, string]>();

/** The two <pubkey/> payloads of `bareJid` (XEP-0189 urn:xmpp:pubkey:1, ASCII SPKI form): [RSA-2048, Ed25519]. */
export function keyPayloads(bareJid: string): [string, string] {
  let p = cache.get(bareJid);
  if (!p) {
    if (!keys.rsa || !keys.ed) throw new Error('prepareKeys() first');
    const begin = new Date(Date.UTC(2026, 0, 1));
    const end = new Date(Date.UTC(2028, 0, 1));
    const one = (k: import('node:crypto').KeyObject) => serialize(buildPubkey(createPubkey({ publicKey: k, jid: bareJid, begin, end, version: 1 })));
    p = [one(keys.rsa), one(keys.ed)];
    cache.set(bareJid, p);
  }
  return p;
}

/** Item payload number `seq` of the workload: alternately the RSA and the Ed25519 key (real), or the
 * earlier <entry/> (legacy). `marker` is what a check looks for in a retrieved item. */
export function itemPayload(w: Workload, bareJid: string, seq: number | string): string {
  if (w === 'legacy') return payload(seq);
  const [rsa, ed] = keyPayloads(bareJid);
  return typeof seq === 'number' && seq % 2 === 1 ? ed : rsa;
}

export function payloadMarker(w: Workload): string {
  return w === 'legacy' ? '<entry' : '<pubkey';
}

/** The publish-options fields a key-publishing client sends (XEP-0222 §3 plus max_items). */
export function keyNodeOptions(access: 'presence' | 'open', maxItems: number): Record<string, string> {
  return {
    'pubsub#persist_items': 'true',
    'pubsub#access_model': access,
    'pubsub#send_last_published_item': 'on_sub_and_presence',
    'pubsub#max_items': String(maxItems),
  };
}

/** The <publish-options/> sent with every publish after the first (real), or nothing (legacy). `accepted`
 * is what the server took on the first publish (ejabberd 23.01 refuses max_items there). */
export function everyPublishOptions(w: Workload, accepted: Record<string, string>): string {
  return w === 'legacy' ? '' : publishOptions(accepted);
}
