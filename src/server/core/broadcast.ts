// Serialise once, address per recipient: a stanza that goes to many recipients and differs only in its
// 'to' is serialised once, and each copy is that text with the recipient's 'to' written in front of the
// other attributes (their order is insignificant, XML 1.0 §3.1). Presence broadcasts and PEP fan-out
// otherwise cloned and serialised the same stanza once per recipient.
import { escapeAttr, type Element } from '../../xml/index.ts';

/** The stanza's bytes addressed to one recipient. */
export type Addresser = (to: string) => string;

/**
 * `stanza` (or what `build` returns, built at the first recipient so that no recipient costs no work) is
 * serialised once, without any 'to' it has.
 */
export function addressEach(stanza: Element | (() => Element)): Addresser {
  let addressed: Addresser | undefined;
  return (to) => (addressed ??= addresser(typeof stanza === 'function' ? stanza() : stanza))(to);
}

function addresser(stanza: Element): Addresser {
  let el = stanza;
  if (el.attrs.to !== undefined) {
    el = el.clone();
    delete el.attrs.to;
  }
  const xml = el.toString();
  const open = `<${el.name}`;
  const rest = xml.startsWith(open) ? xml.slice(open.length) : '';
  if (/^[ />]/.test(rest)) return (to) => `${open} to="${escapeAttr(to)}"${rest}`;
  // Not the serialisation expected (a verbatim copy of received text): address a copy each time.
  return (to) => {
    const c = el.clone();
    c.attrs.to = to;
    return c.toString();
  };
}
