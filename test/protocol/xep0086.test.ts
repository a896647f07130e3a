// XEP-0086 legacy error codes: every condition of RFC 6120 §8.3.3 that the XEP-0086 table maps carries its
// code; the one it cannot map carries none; and the server's real answers carry them on the wire (profanity
// 0.13 needs code='404' on item-not-found to publish its first OMEMO device list).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { StanzaError, type StanzaErrorCondition } from '../../src/protocol/rfc6120.ts';
import { startTestServer, rawSessions, type TestServer } from '../helpers/server.ts';

const TABLE: Record<StanzaErrorCondition, string | undefined> = {
  'bad-request': '400', conflict: '409', 'feature-not-implemented': '501', forbidden: '403', gone: '302',
  'internal-server-error': '500', 'item-not-found': '404', 'jid-malformed': '400', 'not-acceptable': '406',
  'not-allowed': '405', 'not-authorized': '401', 'policy-violation': undefined, 'recipient-unavailable': '404',
  redirect: '302', 'registration-required': '407', 'remote-server-not-found': '404', 'remote-server-timeout': '504',
  'resource-constraint': '500', 'service-unavailable': '503', 'subscription-required': '407',
  'undefined-condition': '500', 'unexpected-request': '400',
};

describe('XEP-0086 legacy error codes', () => {
  for (const [condition, code] of Object.entries(TABLE) as [StanzaErrorCondition, string | undefined][]) {
    it(`${condition} → ${code ?? 'no code'}`, () => {
      const el = new StanzaError(condition).toElement();
      assert.equal(el.attrs.code, code);
      assert.ok(el.getChild(condition, 'urn:ietf:params:xml:ns:xmpp-stanzas'), 'the RFC 6120 condition is still there');
    });
  }

  describe('on the wire', () => {
    let t: TestServer;
    const sessions = rawSessions(() => t);
    before(async () => {
      t = await startTestServer({ users: { 'profanity@localhost': 'pw' } });
    });
    after(async () => {
      sessions.destroyAll();
      await t.stop();
    });

    it("answers profanity's first request for its own OMEMO device list with item-not-found code='404'", async () => {
      const c = await sessions.login('profanity', 'laptop');
      const r = await c.iq(`<iq type='get' to='profanity@localhost'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='eu.siacs.conversations.axolotl.devicelist'/></pubsub></iq>`);
      const err = r.getChild('error')!;
      assert.equal(err.attrs.code, '404');
      assert.equal(err.attrs.type, 'cancel');
      assert.ok(err.getChild('item-not-found', 'urn:ietf:params:xml:ns:xmpp-stanzas'));
    });

    it("answers an unknown IQ namespace with service-unavailable code='503'", async () => {
      const c = await sessions.login('profanity', 'desktop');
      const r = await c.iq(`<iq type='get' to='localhost'><query xmlns='urn:example:nothing-here'/></iq>`);
      assert.equal(r.getChild('error')!.attrs.code, '503');
    });
  });
});
