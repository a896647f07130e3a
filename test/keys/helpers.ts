// Shared by the key tests: fixture loading (XML comments are stripped: our parser refuses them as restricted
// XML) and the fixed test keys.
import { readFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseXml, type Element } from '../../src/xml/index.ts';

export const FIXTURES = fileURLToPath(new URL('../fixtures/xep0189/', import.meta.url));

export function fixtureText(name: string): string {
  return readFileSync(FIXTURES + name, 'utf8');
}

export function fixtureXml(name: string): Element {
  return parseXml(fixtureText(name).replace(/<!--[\s\S]*?-->/g, '').trim());
}

export function fixtureJson<T = unknown>(name: string): T {
  return JSON.parse(fixtureText(name)) as T;
}

export interface Vectors {
  begin: string;
  end: string;
  jid: string;
  rsaSpki: string;
  ed25519Spki: string;
  rsaModulusDecimal: string;
  rsaModulusBase64: string;
  v1PrintInput: string;
  v1Print: string;
  ed25519PrintInput: string;
  ed25519Print: string;
  v2PrintInput: string;
  v2PrintSha256: string;
  v2PrintSha512: string;
  keyValueCanonical: string;
  keyValuePrint: string;
  revocationTime: string;
  revokeRsaByEd25519SignedString: string;
  revokeRsaByEd25519Signature: string;
  revokeEd25519ByRsaSignedString: string;
  revokeEd25519ByRsaSignature: string;
}

export const vectors = fixtureJson<Vectors>('vectors.json');

export function rsaPrivate(): KeyObject {
  return createPrivateKey(fixtureText('test-rsa-2048.key.pem'));
}
export function rsaPublic(): KeyObject {
  return createPublicKey(fixtureText('test-rsa-2048.pub.pem'));
}
export function edPrivate(): KeyObject {
  return createPrivateKey(fixtureText('test-ed25519.key.pem'));
}
export function edPublic(): KeyObject {
  return createPublicKey(fixtureText('test-ed25519.pub.pem'));
}

/** Payload child of a stanza fixture (iq/message/presence) or the fixture root itself. */
export function payload(el: Element): Element {
  return ['iq', 'message', 'presence'].includes(el.local) ? el.elements[0]! : el;
}
