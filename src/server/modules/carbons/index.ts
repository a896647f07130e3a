// XEP-0280 Message Carbons. A resource that enabled carbons gets a <received/> copy of each eligible
// message to its account that RFC 6121 delivered to another resource (or to none), and a <sent/> copy of
// each eligible message another resource of its account sent. Copies come from the account's bare JID.
// Both hooks run after the archive's (priority -10), so the copies carry its <stanza-id/>.
import type { Jid } from '../../../jid/index.ts';
import type { Element } from '../../../xml/index.ts';
import { asJson, createSessionKey, type ModuleSession } from '../../../cluster/index.ts';
import { defineModule } from '../../core/module-host.ts';
import { addressEach } from '../../core/broadcast.ts';
import { messageRecipients } from '../../core/message-recipients.ts';
import { StanzaError } from '../../../protocol/rfc6120.ts';
import { messageType } from '../../../protocol/rfc6121.ts';
import { carbon, carbonEligible, NS_CARBONS } from '../../../protocol/xep0280.ts';

const Enabled = createSessionKey<boolean>('carbons', asJson);

export const carbonsModule = defineModule({
  name: 'carbons',
  setup(api) {
    /** The account's carbons-enabled resources, but for those given. */
    const copiesFor = (bare: string, except: Set<ModuleSession | undefined>) =>
      api.sessions.resources(bare).filter((s) => s.get(Enabled) === true && !s.isClosed && !except.has(s));

    const send = (kind: 'sent' | 'received', stanza: Element, bare: string, to: ModuleSession[]) => {
      if (to.length === 0) return;
      const copy = addressEach(() => carbon(kind, stanza, bare));
      for (const s of to) s.deliver(copy(s.jid.full));
    };

    // §7: the other resources of the sender, whether the sender enabled carbons or not. A message to the
    // sender's own account is copied as received, by the hook below.
    api.hook('outgoing/message', ({ stanza, from, to, origin }) => {
      if (!to || to.bare === from.bare || !carbonEligible(stanza, false)) return;
      send('sent', stanza, from.bare, copiesFor(from.bare, new Set([origin ?? api.sessions.get(from.full)])));
    }, -20);

    // §6: the resources RFC 6121 did not deliver it to (a message for one resource reaches only that one).
    api.hook('incoming/message', ({ stanza, from, to }: { stanza: Element; from: Jid; to: Jid }) => {
      if (!carbonEligible(stanza, true)) return;
      const delivered = to.isBare()
        ? messageRecipients(api.sessions.resources(to.bare), messageType(stanza.attrs.type))
        : [api.sessions.get(to.full)];
      // The sending resource of a message to its own account has it already.
      send('received', stanza, to.bare, copiesFor(to.bare, new Set([...delivered, api.sessions.get(from.full)])));
    }, -20);

    api.handleIq('account', NS_CARBONS, ({ payload, type, from, to, origin }) => {
      // §4/§5: a client enables or disables its own carbons, and only its own.
      const session = origin ?? api.sessions.get(from.full);
      if (from.bare !== to.bare || !session) throw new StanzaError('not-allowed', 'carbons are set by a resource of this account for itself');
      if (type !== 'set') throw new StanzaError('bad-request', 'carbons are enabled or disabled with an IQ set');
      // §9.1: repeating either is not an error.
      if (payload.local === 'enable') session.set(Enabled, true);
      else if (payload.local === 'disable') session.delete(Enabled);
      else throw new StanzaError('bad-request', `<${payload.local}/> is neither <enable/> nor <disable/>`);
    });
    api.addFeature('host', NS_CARBONS);
  },
});
