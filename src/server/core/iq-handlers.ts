// IQ get/set handlers by payload namespace, for the two kinds of address the server answers for itself:
// a served domain ('host') and an account's bare JID ('account', RFC 6120 §10.3.3: the server answers on
// the account's behalf).
import type { Element } from '../../xml/index.ts';
import type { Jid } from '../../jid/index.ts';
import type { C2sSession } from './c2s-session.ts';

export type IqScope = 'host' | 'account';

export interface IqRequest {
  stanza: Element;
  /** The single child of the IQ. */
  payload: Element;
  type: 'get' | 'set';
  from: Jid;
  /** The domain or bare JID addressed (the sender's own bare JID when 'to' was absent). */
  to: Jid;
  origin?: C2sSession;
  /**
   * Offered to handlers registered with `pipelined` for the stanzas they accept: call it once every state
   * change the request makes has been issued to storage, in order, so the session can start its next
   * stanza while they settle (see pipeline.ts). Not calling it is always correct, just slower.
   */
  proceed?: () => void;
}

/** Returns the result payload (or nothing for an empty result); throws StanzaError to answer with an error. */
export type IqHandler = (req: IqRequest) => Promise<Element | void> | Element | void;

export interface IqHandlerOptions {
  /**
   * Which requests may start before the sender's earlier stanzas have completed (pipeline.ts). Only for
   * requests whose handler issues its state changes in order and produces every output after they settle.
   */
  pipelined?: (payload: Element, type: 'get' | 'set') => boolean;
}

export class IqHandlers {
  private readonly handlers = new Map<string, IqHandler>();
  private readonly pipelined = new Map<string, NonNullable<IqHandlerOptions['pipelined']>>();

  register(scope: IqScope, ns: string, handler: IqHandler, options: IqHandlerOptions = {}): void {
    const key = `${scope} ${ns}`;
    if (this.handlers.has(key)) throw new Error(`an IQ handler for ${key} is already registered`);
    this.handlers.set(key, handler);
    if (options.pipelined) this.pipelined.set(key, options.pipelined);
  }

  get(scope: IqScope, ns: string): IqHandler | undefined {
    return this.handlers.get(`${scope} ${ns}`);
  }

  isPipelined(scope: IqScope, payload: Element, type: 'get' | 'set'): boolean {
    return this.pipelined.get(`${scope} ${payload.ns}`)?.(payload, type) ?? false;
  }
}
