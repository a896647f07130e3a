// IQ get/set handlers by payload namespace, for the two kinds of address the server answers for itself:
// a served domain ('host') and an account's bare JID ('account', RFC 6120 §10.3.3: the server answers on
// the account's behalf).
import type { Element } from '../../xml/index.ts';
import type { IqContext } from './stanza-context.ts';

export type IqScope = 'host' | 'account';

/**
 * Gets the request's context (`to` is the domain or bare JID addressed: the sender's own bare JID when
 * 'to' was absent). Returns the result payload (or nothing for an empty result); throws StanzaError to
 * answer with an error.
 */
export type IqHandler = (ctx: IqContext) => Promise<Element | void> | Element | void;

export interface IqHandlerOptions {
  /**
   * Which requests may start before the sender's earlier stanzas have completed (pipeline.ts); their
   * context's `proceed` lets the session move on. Only for requests whose handler issues its state changes
   * in order and produces every output after they settle.
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
