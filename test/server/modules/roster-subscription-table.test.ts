// Every cell of RFC 6121 Appendix A over real sockets: each state × each of subscribe, subscribed,
// unsubscribe, unsubscribed, sent (A.2, outbound) and received (A.3, inbound), plus the §3.4 pre-approval
// cells. Two fresh accounts are put in the state (stored as the server stores it), both log in, one sends the
// stanza, and then, for BOTH parties: the roster item (roster get), the request held for the user, whether the
// stanza was delivered, whether a roster push was sent, and who now receives whose presence. The expected
// outcome comes from the RFC's tables as printed (test/helpers/rfc6121-appendix-a.ts), not from the server's.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, rawSessions, type TestServer } from '../../helpers/server.ts';
import type { RawClient } from '../../helpers/raw-client.ts';
import { NS_ROSTER, isPresence, isPush, rosterItem, stateName, type SeenItem } from '../../helpers/subscription-state.ts';
import { KINDS, MIRROR, PRE_APPROVABLE, RFC, STATES, exchange, hasFromState, type Kind, type Party } from '../../helpers/rfc6121-appendix-a.ts';
import type { RosterItem } from '../../../src/storage/types.ts';

const DOMAIN = 'verona.lit';

/** What the roster shows of a state (pending in is not shown). */
function visible(p: Party): SeenItem {
  const subscription = p.state === 'Both' ? 'both' : p.state.startsWith('To') ? 'to' : p.state.startsWith('From') ? 'from' : 'none';
  const out: SeenItem = { subscription };
  if (p.state.includes('Pending Out')) out.ask = 'subscribe';
  if (p.approved) out.approved = 'true';
  return out;
}
const pendingIn = (state: string) => state.includes('Pending In') || state.includes('Out/In');

interface Case {
  kind: Kind;
  sender: Party;
  receiver: Party;
  /** The table whose cell this case is named after. */
  cell: string;
}

/** A.2 cells: the sender in each state, the receiver in the mirror state (a consistent pair). */
function outboundCases(): Case[] {
  return KINDS.flatMap((kind) => STATES.map((s) => ({
    kind, sender: { state: s, approved: false }, receiver: { state: MIRROR[s]!, approved: false }, cell: `A.2 outbound ${kind} in "${s}"`,
  })));
}

/**
 * A.3 cells: the receiver in each state. The sender is in the mirror state when that state routes the stanza;
 * otherwise (a pair the RFC's own tables never lead to, as after a server lost state) in the first state
 * that routes it, so the inbound cell is still reached.
 */
function inboundCases(): Case[] {
  return KINDS.flatMap((kind) => STATES.map((r) => {
    const mirror = MIRROR[r]!;
    const sender = RFC.outbound[kind].get(mirror)!.pass ? mirror : STATES.find((s) => RFC.outbound[kind].get(s)!.pass)!;
    return { kind, sender: { state: sender, approved: false }, receiver: { state: r, approved: false }, cell: `A.3 inbound ${kind} in "${r}"` };
  }));
}

/** §3.4: approval before the request, its cancellation, and the request that meets it. */
function preApprovalCases(): Case[] {
  const out: Case[] = [];
  for (const s of PRE_APPROVABLE) {
    out.push({ kind: 'subscribed', sender: { state: s, approved: false }, receiver: { state: MIRROR[s]!, approved: false }, cell: `§3.4 pre-approve in "${s}"` });
    out.push({ kind: 'unsubscribed', sender: { state: s, approved: true }, receiver: { state: MIRROR[s]!, approved: false }, cell: `§3.4 cancel pre-approval in "${s}"` });
    out.push({ kind: 'subscribe', sender: { state: MIRROR[s]!, approved: false }, receiver: { state: s, approved: true }, cell: `§3.4 request meets pre-approval in "${s}"` });
  }
  // Approving again once "from" is there changes nothing, pre-approval included (issue 13).
  for (const s of ['From', 'From + Pending Out', 'Both']) {
    out.push({ kind: 'subscribed', sender: { state: s, approved: false }, receiver: { state: MIRROR[s]!, approved: false }, cell: `§3.4 no pre-approval in "${s}"` });
  }
  return out;
}

describe('RFC 6121 Appendix A, cell by cell over TCP', () => {
  let t: TestServer;
  const s = rawSessions(() => t);
  let n = 0;
  before(async () => {
    t = await startTestServer({ hosts: [DOMAIN] });
  });
  after(async () => {
    s.destroyAll();
    await t.stop();
  });

  /** Stores a party's state as the server keeps it: the roster item and the held request. */
  async function seed(owner: string, contact: string, p: Party): Promise<void> {
    const v = visible(p);
    const item: RosterItem = { jid: contact, subscription: v.subscription as RosterItem['subscription'], groups: ['Seeded'] };
    if (v.ask) item.ask = 'subscribe';
    if (p.approved) item.approved = true;
    await t.storage.roster.putItem(owner, item);
    if (pendingIn(p.state)) {
      await t.storage.roster.addPendingIn(owner, { from: contact, stanza: `<presence xmlns='jabber:client' type='subscribe' from='${contact}' to='${owner}'/>` });
    }
  }

  /** Every stanza the other party's actions put on this client's socket has arrived once this returns. */
  async function settle(...cs: RawClient[]): Promise<void> {
    for (const c of cs) await c.iq(`<iq type='get' to='${DOMAIN}'><ping xmlns='urn:xmpp:ping'/></iq>`);
  }

  async function held(owner: string, contact: string): Promise<boolean> {
    return (await t.storage.roster.listPendingIn(owner)).some((p) => p.from === contact);
  }

  /** Does `to` receive `from`'s presence broadcast now? */
  async function seesPresence(from: RawClient, fromJid: string, to: RawClient, tag: string): Promise<boolean> {
    from.send(`<presence><status>${tag}</status></presence>`);
    await settle(from, to);
    return to.stanzas.some((el) => isPresence(fromJid, undefined)(el) && el.getChildText('status') === tag);
  }

  const cases = [...outboundCases(), ...inboundCases(), ...preApprovalCases()];
  for (const c of cases) {
    const want = exchange(c.kind, c.sender, c.receiver);
    const title = `${c.cell}: ${c.kind} from "${c.sender.state}"${c.sender.approved ? ' (pre-approved)' : ''} to "${c.receiver.state}"${c.receiver.approved ? ' (pre-approved)' : ''} → "${want.sender.state}" / "${want.receiver.state}", ${want.delivered ? 'delivered' : 'not delivered'}`;
    it(title, async () => {
      const i = ++n;
      const sj = `s${i}@${DOMAIN}`;
      const rj = `r${i}@${DOMAIN}`;
      await t.addUser(sj, 'pw');
      await t.addUser(rj, 'pw');
      await seed(sj, rj, c.sender);
      await seed(rj, sj, c.receiver);
      const sender = await s.login(`s${i}`, 'a', 'pw', DOMAIN);
      const receiver = await s.login(`r${i}`, 'b', 'pw', DOMAIN);
      for (const cl of [sender, receiver]) {
        await cl.iq(`<iq type='get'><query xmlns='${NS_ROSTER}'/></iq>`);
        cl.send('<presence/>');
      }
      await settle(sender, receiver, sender);
      sender.stanzas.length = 0;
      receiver.stanzas.length = 0;

      sender.send(`<presence to='${rj}' type='${c.kind}'/>`);
      await settle(sender, receiver, sender);

      // The stanza reached the receiver's resources exactly when the inbound cell says "deliver".
      assert.equal(receiver.stanzas.some(isPresence(sj, c.kind)), want.delivered, 'delivered to the receiver');
      // The server answered a request for the user (A.3.1 "*", §3.4).
      assert.equal(sender.stanzas.some(isPresence(rj, 'subscribed')), want.answered, 'answered with subscribed');
      // Roster pushes exactly when what the roster shows changed.
      const changed = (a: Party, b: Party) => JSON.stringify(visible(a)) !== JSON.stringify(visible(b));
      assert.equal(sender.stanzas.some(isPush(rj)), changed(c.sender, want.sender), 'roster push to the sender');
      assert.equal(receiver.stanzas.some(isPush(sj)), changed(c.receiver, want.receiver), 'roster push to the receiver');

      // Both rosters, read back, and the requests each server holds.
      const sItem = await rosterItem(sender, rj);
      const rItem = await rosterItem(receiver, sj);
      assert.deepEqual(sItem, visible(want.sender), "sender's roster item");
      assert.deepEqual(rItem, visible(want.receiver), "receiver's roster item");
      assert.equal(stateName(sItem, await held(sj, rj)), want.sender.state.replace('Out/In', 'Out + Pending In'), "sender's state");
      assert.equal(stateName(rItem, await held(rj, sj)), want.receiver.state.replace('Out/In', 'Out + Pending In'), "receiver's state");

      // Who receives whose presence now: the subscribers ("from" on the publisher's side), and only them.
      assert.equal(await seesPresence(sender, `${sj}/a`, receiver, `p${i}s`), hasFromState(want.sender.state), 'receiver gets the sender\'s presence');
      assert.equal(await seesPresence(receiver, `${rj}/b`, sender, `p${i}r`), hasFromState(want.receiver.state), 'sender gets the receiver\'s presence');
      s.destroyAll();
    });
  }
});
