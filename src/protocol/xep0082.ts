// XEP-0082: XMPP Date and Time Profiles (version 1.1) — the DateTime profile used by XEP-0189's
// <begin/>, <end/>, <revocationtime/> and <signtime/>: CCYY-MM-DDThh:mm:ss[.sss]TZD.

export class Xep0082Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Xep0082Error';
  }
}

const DATETIME_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/;

export interface ParseDateTimeOptions {
  /**
   * XEP-0082 §3.2 makes TZD mandatory, but XEP-0189 0.13's examples write '2009-12-11T20:12:37' and call the
   * value a "UTC DateTime", so by default a missing TZD is read as UTC. Set false to insist on the profile.
   */
  allowMissingTzd?: boolean;
}

/** Parses an XEP-0082 DateTime into an instant; throws Xep0082Error on anything else. */
export function parseDateTime(s: string, opts: ParseDateTimeOptions = {}): Date {
  const m = DATETIME_RE.exec(s.trim());
  if (!m) throw new Xep0082Error(`not an XEP-0082 DateTime: ${JSON.stringify(s)}`);
  const [, y, mo, d, h, mi, se, frac, tzd] = m;
  if (tzd === undefined && opts.allowMissingTzd === false) throw new Xep0082Error(`DateTime without time zone: ${s}`);
  const year = Number(y), month = Number(mo), day = Number(d), hour = Number(h), min = Number(mi), sec = Number(se);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || min > 59 || sec > 60) {
    throw new Xep0082Error(`DateTime out of range: ${s}`);
  }
  // Milliseconds are the finest Date can hold; further fraction digits are dropped.
  const ms = frac ? Number(frac.slice(1, 4).padEnd(3, '0')) : 0;
  let offsetMin = 0;
  if (tzd && tzd !== 'Z') {
    const sign = tzd[0] === '-' ? -1 : 1;
    const oh = Number(tzd.slice(1, 3)), om = Number(tzd.slice(4, 6));
    if (oh > 23 || om > 59) throw new Xep0082Error(`bad time zone offset: ${s}`);
    offsetMin = sign * (oh * 60 + om);
  }
  // A leap second (":60") rolls into the next minute, which is all Date can represent.
  const base = new Date(Date.UTC(2000, month - 1, day, hour, min, sec, ms));
  base.setUTCFullYear(year); // Date.UTC would map years 0–99 onto 1900–1999
  return new Date(base.getTime() - offsetMin * 60_000);
}

/** Formats an instant as an XEP-0082 UTC DateTime, 'Z' suffix, milliseconds only when asked. */
export function formatDateTime(d: Date, opts: { millis?: boolean } = {}): string {
  if (Number.isNaN(d.getTime())) throw new Xep0082Error('invalid Date');
  const iso = d.toISOString(); // YYYY-MM-DDTHH:mm:ss.sssZ, always UTC
  return opts.millis ? iso : `${iso.slice(0, 19)}Z`;
}

/** XEP-0082 §3.1 Date profile: CCYY-MM-DD. */
export function formatDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}

export function isDateTime(s: string): boolean {
  try {
    parseDateTime(s);
    return true;
  } catch {
    return false;
  }
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(2000, month, 0)).getUTCDate() - (month === 2 && !isLeap(year) ? 1 : 0);
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}
