export { Jid, JidError, parseJid, tryParseJid, normalizeLocal, normalizeDomain, normalizeResource } from './jid.ts';
export { bareOf, domainOf, jidParts, resourceOf, type JidParts } from './parts.ts';
