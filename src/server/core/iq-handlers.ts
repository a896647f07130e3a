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
}

/** Returns the result payload (or nothing for an empty result); throws StanzaError to answer with an error. */
export type IqHandler = (req: IqRequest) => Promise<Element | void> | Element | void;

export class IqHandlers {
  private readonly handlers = new Map<string, IqHandler>();

  register(scope: IqScope, ns: string, handler: IqHandler): void {
    const key = `${scope} ${ns}`;
    if (this.handlers.has(key)) throw new Error(`an IQ handler for ${key} is already registered`);
    this.handlers.set(key, handler);
  }

  get(scope: IqScope, ns: string): IqHandler | undefined {
    return this.handlers.get(`${scope} ${ns}`);
  }
}
