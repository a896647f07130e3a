// RFC 7622 JIDs. Normalisation follows the PRECIS profiles closely enough for a server: localpart
// UsernameCaseMapped (NFC + case fold, no space or the RFC 7622 §3.3.1 forbidden characters), domainpart
// lowercased IDN in Unicode form without a trailing dot, resourcepart OpaqueString (NFC, no controls).
// Hand-written: no maintained npm library implements RFC 7622 + PRECIS for Node (the xmpp.js `@xmpp/jid`
// package does not normalise or validate).
import { domainToUnicode } from 'node:url';
import { jidParts } from './parts.ts';

export class JidError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JidError';
  }
}

const MAX_PART_BYTES = 1023;
const LOCAL_FORBIDDEN = /["&'/:<>@\s]/u;
// Control characters and other code points PRECIS disallows in every class.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\ufff9-\ufffb\ufffe\uffff]/u;

function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

function checkPart(part: string, what: string): void {
  if (part.length === 0) throw new JidError(`empty ${what}`);
  if (byteLength(part) > MAX_PART_BYTES) throw new JidError(`${what} longer than ${MAX_PART_BYTES} bytes`);
  if (CONTROL.test(part)) throw new JidError(`${what} contains a control character`);
}

export function normalizeLocal(local: string): string {
  const n = local.normalize('NFC').toLowerCase().normalize('NFC');
  checkPart(n, 'localpart');
  if (LOCAL_FORBIDDEN.test(n)) throw new JidError('localpart contains a forbidden character');
  return n;
}

export function normalizeDomain(domain: string): string {
  let d = domain.endsWith('.') ? domain.slice(0, -1) : domain;
  if (d.startsWith('[') && d.endsWith(']')) return d.toLowerCase(); // IPv6 literal
  d = d.normalize('NFC').toLowerCase();
  checkPart(d, 'domainpart');
  if (/[\s@/"'<>&:]/u.test(d) && !/^[0-9a-f:.]+$/.test(d)) throw new JidError('domainpart contains a forbidden character');
  if (/[^\x00-\x7f]/.test(d)) {
    // Validate the IDN by round-tripping through ASCII; an empty result means it is not a valid IDN.
    const u = domainToUnicode(d);
    if (!u) throw new JidError('domainpart is not a valid internationalized domain name');
    d = u;
  }
  for (const label of d.split('.')) {
    if (label.length === 0) throw new JidError('domainpart has an empty label');
    if (label.length > 63) throw new JidError('domainpart label longer than 63 characters');
  }
  return d;
}

export function normalizeResource(resource: string): string {
  const n = resource.normalize('NFC');
  checkPart(n, 'resourcepart');
  return n;
}

export class Jid {
  readonly local: string;
  readonly domain: string;
  readonly resource: string;
  private _bare: string | undefined;
  private _full: string | undefined;

  /** Parts must already be normalised; use `parseJid` or `Jid.of` for untrusted input. */
  private constructor(local: string, domain: string, resource: string) {
    this.local = local;
    this.domain = domain;
    this.resource = resource;
  }

  static of(local: string | undefined, domain: string, resource?: string): Jid {
    return new Jid(local ? normalizeLocal(local) : '', normalizeDomain(domain), resource ? normalizeResource(resource) : '');
  }

  get bare(): string {
    return (this._bare ??= this.local ? `${this.local}@${this.domain}` : this.domain);
  }

  get full(): string {
    return (this._full ??= this.resource ? `${this.bare}/${this.resource}` : this.bare);
  }

  isBare(): boolean {
    return this.resource === '';
  }

  toBare(): Jid {
    return this.resource ? new Jid(this.local, this.domain, '') : this;
  }

  withResource(resource: string): Jid {
    return new Jid(this.local, this.domain, normalizeResource(resource));
  }

  equals(other: Jid): boolean {
    return this.full === other.full;
  }

  toString(): string {
    return this.full;
  }
}

/** Parses and normalises a JID string (RFC 7622 §3.1); throws JidError when invalid. */
export function parseJid(s: string): Jid {
  if (typeof s !== 'string' || s.length === 0) throw new JidError('empty JID');
  if (byteLength(s) > 3071 + 2) throw new JidError('JID too long');
  const { local, domain, resource } = jidParts(s);
  if (local !== undefined && local.length === 0) throw new JidError('empty localpart before @');
  if (resource !== undefined && resource.length === 0) throw new JidError('empty resourcepart after /');
  return Jid.of(local, domain, resource);
}

/** Like parseJid but returns undefined instead of throwing. */
export function tryParseJid(s: string | undefined): Jid | undefined {
  if (s === undefined) return undefined;
  try {
    return parseJid(s);
  } catch {
    return undefined;
  }
}
