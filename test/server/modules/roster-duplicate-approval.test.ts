// Issue 13, "Subscriptions lost": Juliet is online with two resources that both auto-approve. The Nurse
// subscribes, and both resources answer <presence type='subscribed'/> at once. RFC 6121 Appendix A.2.3: the
// second approval meets a state that already has "from" and changes nothing. It used to turn Juliet's item
// from `both` into `to` with approved='true' (a stale read raced the first approval). Run on SQLite, whose
// group commit lets the two approvals interleave as they do in production.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, rawSessions, type TestServer } from '../../helpers/server.ts';
import { openSqliteStorage } from '../../../src/storage/sqlite/index.ts';
import { NS_ROSTER, assertMirrored, isPresence, isPush, rosterItem, rosterItems } from '../../helpers/subscription-state.ts';

describe('two resources approving one subscription request (RFC 6121 A.2.3)', () => {
  let t: TestServer;
  let dir: string;
  const s = rawSessions(() => t);
  const nurses = ['nurse1', 'nurse2', 'nurse3', 'nurse4', 'nurse5'];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-dup-approval-'));
    const users: Record<string, string> = { 'juliet@capulet.lit': 'pw' };
    for (const n of nurses) users[`${n}@capulet.lit`] = 'pw';
    t = await startTestServer({ hosts: ['capulet.lit'], users, storage: openSqliteStorage({ path: join(dir, 'db.sqlite'), synchronous: 'NORMAL' }) });
  });
  after(async () => {
    s.destroyAll();
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const n of nurses) {
    it(`${n}: Juliet's item stays "both" and the Nurse keeps Juliet's presence`, async () => {
      const nurseJid = `${n}@capulet.lit`;
      const chamber = await s.login('juliet', `chamber-${n}`, 'pw', 'capulet.lit');
      const balcony = await s.login('juliet', `balcony-${n}`, 'pw', 'capulet.lit');
      const nurse = await s.login(n, 'ward', 'pw', 'capulet.lit');
      for (const c of [chamber, balcony, nurse]) await c.iq(`<iq type='get'><query xmlns='${NS_ROSTER}'/></iq>`);
      chamber.send('<presence/>');
      balcony.send('<presence/>');
      nurse.send('<presence/>');
      // Juliet already follows the Nurse: her item is "To".
      chamber.send(`<presence to='${nurseJid}' type='subscribe'/>`);
      await nurse.waitStanza(isPresence('juliet@capulet.lit', 'subscribe'));
      nurse.send(`<presence to='juliet@capulet.lit' type='subscribed'/>`);
      await chamber.waitStanza((el) => isPush(nurseJid)(el) && rosterItems(el)[0]!.attrs.subscription === 'to');
      // The Nurse asks; both of Juliet's resources approve at once ("To + Pending In" → "Both", then nothing).
      nurse.send(`<presence to='juliet@capulet.lit' type='subscribe'/>`);
      await Promise.all([chamber, balcony].map((c) => c.waitStanza(isPresence(nurseJid, 'subscribe'))));
      chamber.send(`<presence to='${nurseJid}' type='subscribed'/>`);
      balcony.send(`<presence to='${nurseJid}' type='subscribed'/>`);
      await nurse.waitStanza((el) => isPush('juliet@capulet.lit')(el) && rosterItems(el)[0]!.attrs.subscription === 'both');
      // A round trip through each resource's queue: both approvals have been processed.
      await chamber.iq(`<iq type='get' to='capulet.lit'><ping xmlns='urn:xmpp:ping'/></iq>`);
      await balcony.iq(`<iq type='get' to='capulet.lit'><ping xmlns='urn:xmpp:ping'/></iq>`);

      const julietsItem = await rosterItem(chamber, nurseJid);
      const nursesItem = await rosterItem(nurse, 'juliet@capulet.lit');
      assert.deepEqual(julietsItem, { subscription: 'both' });
      assert.deepEqual(nursesItem, { subscription: 'both' });
      assertMirrored(julietsItem, nursesItem, 'after two approvals');
      // The Nurse is a subscriber: her probe is answered with Juliet's presence.
      nurse.send(`<presence type='probe' to='juliet@capulet.lit'/>`);
      await nurse.waitStanza(isPresence(`juliet@capulet.lit/chamber-${n}`, undefined));
      s.destroyAll();
    });
  }
});
