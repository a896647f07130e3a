// A key event as a pubsub write hands it to the storage (docs/transparency.md "Atomicity"). A publish may
// leave its two derived fields, the payload's SHA-256 and the key's fingerprint, to be computed from the
// payload: about 20 µs of CPU per key (copying and hashing the payload, parsing the key, digesting its print
// input). The server derives them on a thread of its own while the write waits in its batch
// (server/modules/transparency/derive-worker.ts) and hands the result over in the DERIVATION slot; a store
// that finds no result there derives the event itself. The derivation is a pure function of the event.
import { Element, parseXml } from '../xml/index.ts';
import { sha256 } from './hash.ts';
import { keyFingerprint } from './key-events.ts';
import type { KeyEventDraft } from './leaf.ts';

/** The payload as the XML layer parsed it, when the publish had it: an inline derivation need not parse again. */
export const PARSED: unique symbol = Symbol('parsed payload');

/** A publish whose payload hash and fingerprint are still to be derived from `payload` (as stored and served). */
export interface UnderivedPublish extends Omit<KeyEventDraft, 'payloadHash' | 'fingerprint' | 'type'> {
  type: 'publish';
  payload: string;
  [PARSED]?: unknown;
}

export type KeyEventInput = KeyEventDraft | UnderivedPublish;

/**
 * Payloads longer than this (UTF-16 units) are derived at once by `publishInput`: a fingerprint is at most
 * three UTF-8 bytes per payload unit (a print copied from the payload; hex of a decoded key is shorter), so
 * below it a derived fingerprint always fits a leaf's 65535-byte string and a write can be accepted before
 * its fingerprint is known. Key payloads are 1–3 KB; only large OpenPGP keys go past it.
 */
export const DEFER_MAX_PAYLOAD = 21_000;

/**
 * Where a derivation made elsewhere is handed over: `value` once done, `ready` settles then (fulfilled
 * either way; no value means "derive it yourself"). A symbol key, so a structured clone (the SQLite
 * worker's calls) leaves it behind and the store there derives the event itself.
 */
export const DERIVATION: unique symbol = Symbol('key event derivation');
export interface Derivation {
  value?: KeyEventDraft;
  ready: Promise<void>;
}

/** The derived event of `log`: the slot's value when there is one, else derived now. */
export function derivedEvent(log: { event: KeyEventInput; [DERIVATION]?: Derivation }): KeyEventDraft {
  return log[DERIVATION]?.value ?? deriveKeyEvent(log.event);
}

export function isUnderived(e: KeyEventInput): e is UnderivedPublish {
  return (e as UnderivedPublish).payload !== undefined;
}

/** The fingerprint a published payload names (key-events.ts keyFingerprint), from its serialised form. */
export function fingerprintOf(node: string, payload: string, parsed?: unknown): string | undefined {
  if (!payload) return undefined;
  try {
    return keyFingerprint(node, parsed instanceof Element ? parsed : parseXml(payload));
  } catch {
    return undefined;
  }
}

/** The event with its derived fields: what its leaf encodes. Never throws for an input `keyEventInput` accepted. */
export function deriveKeyEvent(e: KeyEventInput): KeyEventDraft {
  if (!isUnderived(e)) return e;
  const { payload, [PARSED]: parsed, ...rest } = e;
  const out: KeyEventDraft = { ...rest, payloadHash: sha256(Buffer.from(payload, 'utf8')) };
  const fingerprint = fingerprintOf(e.node, payload, parsed);
  if (fingerprint !== undefined) out.fingerprint = fingerprint;
  return out;
}

/** A publish's input: derived now when the payload is large (see DEFER_MAX_PAYLOAD), left underived otherwise. */
export function publishInput(e: Omit<UnderivedPublish, 'payload' | 'type' | typeof PARSED>, payload: string, parsed?: unknown): KeyEventInput {
  const input: UnderivedPublish = { type: 'publish', ...e, payload, [PARSED]: parsed };
  return payload.length > DEFER_MAX_PAYLOAD ? deriveKeyEvent(input) : input;
}
