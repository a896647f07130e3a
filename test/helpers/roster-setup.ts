// Builds rosters the way real users do, over the wire with our client: roster items with groups and the
// RFC 6121 subscription handshake in both directions, so the same setup works on our server and on Prosody.
import { XmppClient, setRosterItem, getRoster, subscribe, autoApprove, type ClientOptions } from '../../src/client/index.ts';

export interface Account {
  jid: string;
  password: string;
}

type Conn = Omit<ClientOptions, 'jid' | 'password'>;

/** Makes `a` and `b` mutual contacts (subscription both); `aGroups` are the groups a files b under, and so on. */
export function befriend(conn: Conn, a: Account, b: Account, aGroups: string[], bGroups: string[], timeoutMs = 10_000): Promise<void> {
  return befriendAcross(conn, conn, a, b, aGroups, bGroups, timeoutMs);
}

/** As befriend, with `a` and `b` on different servers (federation). */
export async function befriendAcross(connA: Conn, connB: Conn, a: Account, b: Account, aGroups: string[], bGroups: string[], timeoutMs = 10_000): Promise<void> {
  const ca = await XmppClient.connect({ ...connA, ...a, resource: 'roster-setup' });
  const cb = await XmppClient.connect({ ...connB, ...b, resource: 'roster-setup' });
  try {
    const aBare = ca.jid.bare;
    const bBare = cb.jid.bare;
    autoApprove(ca, (from) => from === bBare, false);
    autoApprove(cb, (from) => from === aBare, false);
    ca.sendPresence();
    cb.sendPresence();
    await setRosterItem(ca, bBare, { groups: aGroups });
    await setRosterItem(cb, aBare, { groups: bGroups });
    subscribe(ca, bBare);
    subscribe(cb, aBare);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ra = (await getRoster(ca)).find((i) => i.jid === bBare);
      const rb = (await getRoster(cb)).find((i) => i.jid === aBare);
      if (ra?.subscription === 'both' && rb?.subscription === 'both') return;
      if (Date.now() > deadline) throw new Error(`subscription handshake between ${aBare} and ${bBare} did not complete: ${JSON.stringify({ ra, rb })}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await ca.close();
    await cb.close();
  }
}
