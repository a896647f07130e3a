// Counting the stanzas in what a session writes: stream framing and negotiation are not stanzas, joined
// stanzas count one each, nested ones (a forwarded message) do not, and CDATA in a verbatim copy of
// received XML does not confuse the depth.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { countStanzas } from '../../../src/server/metrics/stanza-count.ts';

const count = (...writes: string[]) => {
  const c = [0, 0, 0];
  for (const w of writes) countStanzas(w, c);
  return { message: c[0], presence: c[1], iq: c[2] };
};

describe('countStanzas', () => {
  it('counts nothing in stream framing and negotiation', () => {
    assert.deepEqual(
      count(
        `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='x' version='1.0'>`,
        `<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`,
        `<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>`,
        `</stream:stream>`,
      ),
      { message: 0, presence: 0, iq: 0 },
    );
  });

  it('counts each stanza of a joined write, by kind, and not the ones nested inside', () => {
    const forwarded = `<message to="a@b/c"><result xmlns="urn:xmpp:mam:2"><forwarded xmlns="urn:xmpp:forward:0"><message from="x@y"><body>hi</body></message></forwarded></result></message>`;
    assert.deepEqual(count(`<presence from="a@b/c"/><iq type="result" id="1"/>${forwarded}<message to="a@b"><body>1 &lt; 2</body></message>`), { message: 2, presence: 1, iq: 1 });
    assert.deepEqual(count(`<iq\ntype="get" id="2"><ping xmlns="urn:xmpp:ping"/></iq>`, `<messages/>`, `<iqx/>`), { message: 0, presence: 0, iq: 1 });
  });

  it('skips CDATA and comments of verbatim XML', () => {
    assert.deepEqual(count(`<message><body><![CDATA[<presence/> </message>]]></body><!-- <iq/> --></message><presence/>`), { message: 1, presence: 1, iq: 0 });
  });
});
