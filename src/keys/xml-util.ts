// Small helpers shared by the payload parsers.
import type { Element } from '../xml/index.ts';
import { KeyError } from './errors.ts';
import { hashAlgo, type Fingerprint } from './hash.ts';
import { trimXml } from './fingerprint.ts';
import { wrapBase64 } from './material.ts';
import { x } from '../xml/index.ts';
import { payloadVersionOf, type PayloadVersion } from '../protocol/xep0189.ts';

/**
 * The XEP-0189 version of a payload root named one of `names` in one of the namespaces of `table`, or a
 * bad-payload error naming what was expected (the first name) and what came.
 */
export function payloadVersion(el: Element, names: readonly string[], table: Record<PayloadVersion, string>): PayloadVersion {
  const version = payloadVersionOf(table, el.ns);
  if (!names.includes(el.local) || version === undefined) {
    throw new KeyError('bad-payload', `expected <${names[0]}/> in ${table[1]} or ${table[2]}, got <${el.local} xmlns='${el.ns}'/>`);
  }
  return version;
}

export function requireText(el: Element, local: string, what: string): string {
  const child = el.getChild(local, el.ns);
  if (!child) throw new KeyError('bad-payload', `<${what}/> is missing <${local}/>`);
  const t = trimXml(child.text());
  if (t === '') throw new KeyError('bad-payload', `<${local}/> of <${what}/> is empty`);
  return t;
}

export function optionalText(el: Element, local: string): string | undefined {
  const child = el.getChild(local, el.ns);
  return child ? trimXml(child.text()) : undefined;
}

/** A fingerprintType element (XEP-0189 0.14 schema): text plus optional 'algo', default sha-256. */
export function readFingerprint(el: Element, local: string, what: string): Fingerprint {
  const child = el.getChild(local, el.ns);
  if (!child) throw new KeyError('bad-payload', `<${what}/> is missing <${local}/>`);
  const value = trimXml(child.text());
  if (value === '') throw new KeyError('bad-payload', `<${local}/> of <${what}/> is empty`);
  return { algo: hashAlgo(child.attrs.algo), value };
}

/** Writes a fingerprint; 'algo' is written when asked to or when it is not the default. */
export function fingerprintElement(local: string, fp: Fingerprint, alwaysAlgo = false): Element {
  return x(local, { algo: alwaysAlgo || fp.algo !== 'sha-256' ? fp.algo : undefined }, fp.value);
}

/** Base64 written as 64-character lines, like the specs' examples (line breaks are not significant). */
export function base64Lines(b64: string): string {
  return wrapBase64(b64).join('\n');
}
