// XEP-0160 offline messages: a normal or chat message for an account with no available resource is stored
// (acknowledged only once committed) and delivered, oldest first with a XEP-0203 delay stamp, when a
// resource with non-negative priority becomes available.
import { z } from 'zod';
import { parseXml, x } from '../../../xml/index.ts';
import { defineModule } from '../../core/module-host.ts';
import { StanzaError, errorReply } from '../../../protocol/rfc6120.ts';
import { NS_DELAY } from '../../../protocol/xep0203.ts';
import { OFFLINE_STORED_TYPES } from '../../../protocol/xep0160.ts';
import { messageType } from '../../../protocol/rfc6121.ts';

const NS_CHATSTATES = 'http://jabber.org/protocol/chatstates';

export const offlineModule = defineModule({
  name: 'offline',
  requires: ['presence'],
  options: z.strictObject({
    /** Messages kept per account; further ones are refused with resource-constraint. */
    max_messages: z.number().int().positive().prefault(1000),
  }),
  setup(api) {
    const store = api.storage.offline;

    api.hook('message/offline', async ({ stanza, to }) => {
      if (!OFFLINE_STORED_TYPES.has(messageType(stanza.attrs.type))) return false;
      // Messages without content (chat states, receipts) are not worth storing (XEP-0160 §3).
      if (!stanza.elements.some((e) => e.ns !== NS_CHATSTATES && e.local !== 'thread')) return true;
      if ((await store.count(to.bare)) >= api.options.max_messages) {
        const sender = api.sessions.get(stanza.attrs.from ?? '');
        sender?.deliver(errorReply(stanza, new StanzaError('resource-constraint', 'the recipient has too many offline messages', 'wait')));
        return true;
      }
      await store.push(to.bare, { stanza: stanza.toString(), storedAt: Date.now() });
      return true;
    });

    api.hook('presence/available', async ({ session }) => {
      if (session.priority < 0) return;
      const messages = await store.takeAll(session.jid.bare);
      for (const m of messages) {
        let el;
        try {
          el = parseXml(m.stanza);
        } catch (err) {
          api.logger.error({ err }, 'dropping an unreadable stored message');
          continue;
        }
        el.append(x('delay', { xmlns: NS_DELAY, from: session.jid.domain, stamp: new Date(m.storedAt).toISOString() }, 'Offline storage'));
        session.deliver(el);
      }
    });
  },
});
