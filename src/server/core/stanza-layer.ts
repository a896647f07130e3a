// A stream-level extension's place on a session's stanza output: XEP-0352 holds stanzas back while the
// client is inactive, XEP-0198 counts and keeps what goes out until acknowledged. Layers run in rank order,
// each handing a stanza on to the next (now, later, or not at all); after the last one comes the socket.
import type { Element } from '../../xml/index.ts';

/** Hands a stanza on; `el` is its parsed form when the sender had one (saves a parse). */
export type StanzaSink = (data: string, el: Element | undefined) => void;

export interface StanzaLayer {
  /** Lower ranks run first: CSI decides what goes out now, stream management counts what does. */
  readonly rank: number;
  stanza(data: string, el: Element | undefined, next: StanzaSink): void;
}

export const CSI_RANK = 10;
export const SM_RANK = 20;
