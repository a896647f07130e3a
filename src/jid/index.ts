export { Jid, JidError, parseJid, tryParseJid, normalizeLocal, normalizeDomain, normalizeResource } from './jid.ts';
