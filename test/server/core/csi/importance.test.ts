// XEP-0352: which stanzas an inactive client gets at once, which wait collapsed under a key, which wait in
// order; with the stanzas real clients exchange (OMEMO, carbons, chat states, avatars, subscriptions).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseXml } from '../../../../src/xml/index.ts';
import { treatment } from '../../../../src/server/core/csi/importance.ts';

const t = (xml: string) => treatment(parseXml(xml));

describe('XEP-0352 importance', () => {
  it('sends IQs, messages with a body or an encrypted payload, errors and subscription requests at once', () => {
    assert.equal(t(`<iq xmlns='jabber:client' type='get' id='1' from='a@x/r'><ping xmlns='urn:xmpp:ping'/></iq>`), undefined);
    assert.equal(t(`<message xmlns='jabber:client' from='a@x/r' type='chat'><body>hi</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>`), undefined);
    assert.equal(t(`<message xmlns='jabber:client' from='a@x/r' type='chat'><encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='1'/></encrypted></message>`), undefined);
    assert.equal(t(`<message xmlns='jabber:client' from='a@x/r' type='chat'><encrypted xmlns='urn:xmpp:omemo:2'><header sid='1'/></encrypted></message>`), undefined);
    assert.equal(t(`<message xmlns='jabber:client' from='a@x' type='chat'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='b@x/r' type='chat'><body>via carbon</body></message></forwarded></received></message>`), undefined);
    assert.equal(t(`<message xmlns='jabber:client' from='a@x/r' type='error'><error type='cancel'/></message>`), undefined);
    assert.equal(t(`<presence xmlns='jabber:client' from='a@x' type='subscribe'/>`), undefined);
  });

  it('collapses PEP notifications per publisher and node, presence and chat states per sender', () => {
    const avatar = (id: string) => `<message xmlns='jabber:client' from='a@x' type='headline'><event xmlns='http://jabber.org/protocol/pubsub#event'><items node='urn:xmpp:avatar:metadata'><item id='${id}'/></items></event></message>`;
    assert.equal(t(avatar('1')), 'pep a@x urn:xmpp:avatar:metadata');
    assert.equal(t(avatar('2')), t(avatar('1')));
    assert.equal(t(`<presence xmlns='jabber:client' from='a@x/r'><show>away</show></presence>`), 'presence a@x/r');
    assert.equal(t(`<presence xmlns='jabber:client' from='a@x/r' type='unavailable'/>`), 'presence a@x/r');
    assert.equal(t(`<message xmlns='jabber:client' from='a@x/r' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`), 'chatstate a@x/r');
  });

  it('holds the rest in order', () => {
    assert.equal(t(`<message xmlns='jabber:client' from='a@x/r'><received xmlns='urn:xmpp:receipts' id='x'/></message>`), null);
    assert.equal(t(`<message xmlns='jabber:client' from='a@x' type='headline'><event xmlns='http://jabber.org/protocol/pubsub#event'><purge node='n'/></event></message>`), null);
  });
});
