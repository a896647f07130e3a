// XEP-0030 — Service Discovery, version 2.5.
export const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
export const NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items';

export interface DiscoIdentity {
  category: string;
  type: string;
  name?: string;
  lang?: string;
}
