// XEP-0160 offline messages: a normal or chat message for an account with no available resource is stored
// (acknowledged only once committed) and delivered, oldest first with a XEP-0203 delay stamp, when a
// resource with non-negative priority becomes available.
//
// Replay must not block the event loop (issue 19 finding 8): a message is stored already in its delivered
// form (delay stamp included; stanzas carry their namespace declarations since finding 4), so replay writes
// the stored string as is, with no parse. Rows stored by older versions lack that form and are parsed, one
// per turn of the event loop. Each account's store is bounded by count and by total bytes.
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
    /** Total size of the messages kept per account (UTF-8 bytes as stored); beyond: resource-constraint. */
    max_bytes: z.number().int().positive().prefault(2 * 1024 * 1024),
  }),
  setup(api) {
    const store = api.storage.offline;

    api.hook('message/offline', async ({ stanza, to }) => {
      if (!OFFLINE_STORED_TYPES.has(messageType(stanza.attrs.type))) return false;
      // Messages without content (chat states, receipts) are not worth storing (XEP-0160 §3).
      if (!stanza.elements.some((e) => e.ns !== NS_CHATSTATES && e.local !== 'thread')) return true;
      const storedAt = Date.now();
      // XEP-0203 stamp added now, so replay has nothing to change; the stanza itself is left as it was.
      const delay = x('delay', { xmlns: NS_DELAY, from: to.domain, stamp: new Date(storedAt).toISOString() }, 'Offline storage');
      stanza.append(delay);
      const text = stanza.toString();
      stanza.remove(delay);
      const { messages, bytes } = await store.size(to.bare);
      const full = messages >= api.options.max_messages ? 'too many' : bytes + Buffer.byteLength(text) > api.options.max_bytes ? 'too large' : undefined;
      if (full) {
        const sender = api.sessions.get(stanza.attrs.from ?? '');
        sender?.deliver(errorReply(stanza, new StanzaError('resource-constraint', full === 'too many' ? 'the recipient has too many offline messages' : 'the recipient\'s offline storage is full', 'wait')));
        return true;
      }
      await store.push(to.bare, { stanza: text, storedAt, verbatim: true });
      return true;
    });

    // Account deletion: the messages waiting for it go (store.accounts.delete would drop them too; each
    // module removes its own data).
    api.hook('account/deleted', async ({ jid }) => {
      await store.takeAll(jid);
    });

    api.hook('presence/available', async ({ session }) => {
      if (session.priority < 0) return;
      const messages = await store.takeAll(session.jid.bare);
      let parsed = false;
      for (const m of messages) {
        if (m.verbatim) {
          session.deliver(m.stanza);
          continue;
        }
        // A legacy row: one parse per turn, so other sessions' work runs in between.
        if (parsed) await new Promise((r) => setImmediate(r));
        parsed = true;
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
