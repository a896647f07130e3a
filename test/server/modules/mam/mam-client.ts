// A raw client's side of XEP-0313: send a query, collect its result messages (by queryid) and its <fin/>.
import type { RawClient } from '../../../helpers/raw-client.ts';
import type { Element } from '../../../../src/xml/index.ts';

export const MAM = 'urn:xmpp:mam:2';
export const RSM = 'http://jabber.org/protocol/rsm';
export const SID = 'urn:xmpp:sid:0';

export interface MamAnswer {
  iq: Element;
  results: Element[];
  /** The forwarded messages, in the order received. */
  messages: Element[];
  ids: string[];
  fin?: Element;
  complete?: string;
  first?: string;
  firstIndex?: string;
  last?: string;
  count?: number;
}

let seq = 0;

/** Runs a query; `fields` are form fields (var → value or values), `rsm` the inner XML of <set/>. */
export async function mamQuery(c: RawClient, opts: { fields?: Record<string, string | string[]>; rsm?: string; extra?: string; to?: string } = {}): Promise<MamAnswer> {
  const queryid = `q${++seq}`;
  const fields = Object.entries(opts.fields ?? {})
    .map(([k, v]) => `<field var='${k}'>${(Array.isArray(v) ? v : [v]).map((s) => `<value>${s}</value>`).join('')}</field>`)
    .join('');
  const form = opts.fields ? `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>${MAM}</value></field>${fields}</x>` : '';
  const set = opts.rsm !== undefined ? `<set xmlns='${RSM}'>${opts.rsm}</set>` : '';
  const iq = await c.iq(`<iq type='set'${opts.to ? ` to='${opts.to}'` : ''}><query xmlns='${MAM}' queryid='${queryid}'>${form}${set}${opts.extra ?? ''}</query></iq>`);
  const results: Element[] = [];
  for (let i = 0; i < c.stanzas.length; ) {
    const r = c.stanzas[i]!.getChild('result', MAM);
    if (c.stanzas[i]!.name === 'message' && r?.attrs.queryid === queryid) results.push(...c.stanzas.splice(i, 1).map((m) => m.getChild('result', MAM)!));
    else i++;
  }
  const fin = iq.getChild('fin', MAM);
  const rset = fin?.getChild('set', RSM);
  return {
    iq,
    results,
    messages: results.map((r) => r.getChild('forwarded', 'urn:xmpp:forward:0')!.getChild('message')!),
    ids: results.map((r) => r.attrs.id!),
    fin,
    complete: fin?.attrs.complete,
    first: rset?.getChildText('first'),
    firstIndex: rset?.getChild('first')?.attrs.index,
    last: rset?.getChildText('last'),
    count: rset?.getChildText('count') !== undefined ? Number(rset.getChildText('count')) : undefined,
  };
}

export const bodies = (a: MamAnswer) => a.messages.map((m) => m.getChildText('body'));
