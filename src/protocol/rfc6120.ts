// RFC 6120 — XMPP: Core (2011). Namespaces, stream and stanza errors, STARTTLS / SASL / bind elements.
import { Element, x } from '../xml/index.ts';
import { legacyErrorCode } from './xep0086.ts';

export const NS_STREAM = 'http://etherx.jabber.org/streams';
export const NS_CLIENT = 'jabber:client';
export const NS_SERVER = 'jabber:server';
export const NS_TLS = 'urn:ietf:params:xml:ns:xmpp-tls';
export const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
export const NS_BIND = 'urn:ietf:params:xml:ns:xmpp-bind';
export const NS_STREAM_ERRORS = 'urn:ietf:params:xml:ns:xmpp-streams';
export const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
/** XEP-0440 SASL Channel-Binding Type Capability (1.0.0): the stream feature announcing binding types. */
export const NS_SASL_CB = 'urn:xmpp:sasl-cb:0';
/** RFC 3921 session establishment, still sent by old clients (RFC 6121 Appendix E). */
export const NS_SESSION = 'urn:ietf:params:xml:ns:xmpp-session';

/** RFC 6120 §4.9.3 stream error conditions. */
export type StreamErrorCondition =
  | 'bad-format' | 'bad-namespace-prefix' | 'conflict' | 'connection-timeout' | 'host-gone' | 'host-unknown'
  | 'improper-addressing' | 'internal-server-error' | 'invalid-from' | 'invalid-namespace' | 'invalid-xml'
  | 'not-authorized' | 'not-well-formed' | 'policy-violation' | 'remote-connection-failed' | 'reset'
  | 'resource-constraint' | 'restricted-xml' | 'see-other-host' | 'system-shutdown' | 'undefined-condition'
  | 'unsupported-encoding' | 'unsupported-feature' | 'unsupported-stanza-type' | 'unsupported-version';

export class StreamError extends Error {
  constructor(readonly condition: StreamErrorCondition, readonly text?: string) {
    super(text ? `${condition}: ${text}` : condition);
    this.name = 'StreamError';
  }

  toElement(): Element {
    return x('stream:error', null,
      x(this.condition, { xmlns: NS_STREAM_ERRORS }),
      this.text ? x('text', { xmlns: NS_STREAM_ERRORS, 'xml:lang': 'en' }, this.text) : undefined);
  }
}

/** RFC 6120 §8.3.3 stanza error conditions. */
export type StanzaErrorCondition =
  | 'bad-request' | 'conflict' | 'feature-not-implemented' | 'forbidden' | 'gone' | 'internal-server-error'
  | 'item-not-found' | 'jid-malformed' | 'not-acceptable' | 'not-allowed' | 'not-authorized'
  | 'policy-violation' | 'recipient-unavailable' | 'redirect' | 'registration-required'
  | 'remote-server-not-found' | 'remote-server-timeout' | 'resource-constraint' | 'service-unavailable'
  | 'subscription-required' | 'undefined-condition' | 'unexpected-request';

export type StanzaErrorType = 'auth' | 'cancel' | 'continue' | 'modify' | 'wait';

/** RFC 6120 §8.3.3: the error type each condition is usually sent with. */
const DEFAULT_TYPES: Record<StanzaErrorCondition, StanzaErrorType> = {
  'bad-request': 'modify', conflict: 'cancel', 'feature-not-implemented': 'cancel', forbidden: 'auth',
  gone: 'cancel', 'internal-server-error': 'cancel', 'item-not-found': 'cancel', 'jid-malformed': 'modify',
  'not-acceptable': 'modify', 'not-allowed': 'cancel', 'not-authorized': 'auth', 'policy-violation': 'modify',
  'recipient-unavailable': 'wait', redirect: 'modify', 'registration-required': 'auth',
  'remote-server-not-found': 'cancel', 'remote-server-timeout': 'wait', 'resource-constraint': 'wait',
  'service-unavailable': 'cancel', 'subscription-required': 'auth', 'undefined-condition': 'cancel',
  'unexpected-request': 'wait',
};

export class StanzaError extends Error {
  readonly type: StanzaErrorType;
  constructor(
    readonly condition: StanzaErrorCondition,
    readonly text?: string,
    type?: StanzaErrorType,
    /** Application-specific condition element (e.g. a pubsub#errors child). */
    readonly appCondition?: Element,
  ) {
    super(text ? `${condition}: ${text}` : condition);
    this.name = 'StanzaError';
    this.type = type ?? DEFAULT_TYPES[condition];
  }

  /** The <error/> child, with the XEP-0086 legacy code some clients still test (see xep0086.ts). */
  toElement(by?: string): Element {
    return x('error', { code: legacyErrorCode(this.condition), type: this.type, by },
      x(this.condition, { xmlns: NS_STANZAS }),
      this.text ? x('text', { xmlns: NS_STANZAS, 'xml:lang': 'en' }, this.text) : undefined,
      this.appCondition);
  }
}

/** Reads the <error/> child of a stanza into a StanzaError (RFC 6120 §8.3). */
export function parseStanzaError(stanza: Element): StanzaError {
  const err = stanza.getChild('error');
  if (!err) return new StanzaError('undefined-condition', 'error stanza without <error/>');
  const condEl = err.elements.find((c) => c.ns === NS_STANZAS && c.local !== 'text');
  const text = err.getChildText('text', NS_STANZAS);
  const app = err.elements.find((c) => c.ns !== NS_STANZAS);
  const type = err.attrs.type as StanzaErrorType | undefined;
  return new StanzaError((condEl?.local ?? 'undefined-condition') as StanzaErrorCondition, text, type, app);
}

/**
 * Builds the error reply to a stanza (RFC 6120 §8.3.1): addresses swapped, same id and name, type error,
 * the original payload left out. Both sides build their errors here: a server and a client (which drops
 * 'from' and lets its server stamp it, RFC 6120 §8.1.2.1) — 'to' comes before 'from' so the server stamping
 * it last yields the same bytes as the server's own reply. A refusal relayed from a client must read exactly
 * like the server's answer for an absent resource (XEP-0189 §7, RFC 6121 §8.5.3.1: no presence leak).
 */
export function errorReply(stanza: Element, error: StanzaError): Element {
  const reply = x(stanza.name, { type: 'error', id: stanza.attrs.id, to: stanza.attrs.from, from: stanza.attrs.to });
  reply.append(error.toElement());
  return reply;
}

/**
 * The answer to a stanza for an address that is not there (RFC 6121 §8.5.3.1, §8.5.1) — and, the same
 * bytes, the refusal that must not tell "not here" from "will not answer you" (RFC 6120 §8.3.3.19,
 * XEP-0189 §7).
 */
export function unavailableReply(stanza: Element): Element {
  return errorReply(stanza, new StanzaError('service-unavailable'));
}

export function iqResult(iq: Element, payload?: Element): Element {
  return x('iq', { type: 'result', id: iq.attrs.id, from: iq.attrs.to, to: iq.attrs.from }, payload);
}

/** Stanza kinds at the top level of a c2s stream (RFC 6120 §8). */
export function isStanza(el: Element): boolean {
  const n = el.name;
  return (n === 'message' || n === 'presence' || n === 'iq') && (el.ns === NS_CLIENT || el.ns === NS_SERVER);
}
