// Subscription exchanges that overlap (issue 13): several resources answering one request at once, both
// parties asking at the same moment, and a contact removed and re-added while requests are in flight. After
// each, the two parties must agree: one's "to" is the other's "from", and one's pending request out is held
// by the other as a pending request in. Run on SQLite, whose group commit lets the exchanges interleave.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, rawSessions, type TestServer } from '../../helpers/server.ts';
import type { RawClient } from '../../helpers/raw-client.ts';
import { openSqliteStorage } from '../../../src/storage/sqlite/index.ts';
import { NS_ROSTER, assertMirrored, isPresence, isPush, rosterItem, rosterItems } from '../../helpers/subscription-state.ts';

const D = 'verona.lit';

describe('overlapping subscription exchanges (RFC 6121 §3, Appendix A)', () => {
  let t: TestServer;
  let dir: string;
  const s = rawSessions(() => t);
  let n = 0;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-sub-race-'));
    t = await startTestServer({ hosts: [D], storage: openSqliteStorage({ path: join(dir, 'db.sqlite'), synchronous: 'NORMAL' }) });
  });
  after(async () => {
    s.destroyAll();
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function pair(resourcesA = 1, resourcesB = 1): Promise<{ a: string; b: string; as: RawClient[]; bs: RawClient[] }> {
    const i = ++n;
    const a = `a${i}@${D}`;
    const b = `b${i}@${D}`;
    await t.addUser(a, 'pw');
    await t.addUser(b, 'pw');
    const as: RawClient[] = [];
    const bs: RawClient[] = [];
    for (let k = 0; k < resourcesA; k++) as.push(await s.login(`a${i}`, `r${k}`, 'pw', D));
    for (let k = 0; k < resourcesB; k++) bs.push(await s.login(`b${i}`, `r${k}`, 'pw', D));
    for (const c of [...as, ...bs]) {
      await c.iq(`<iq type='get'><query xmlns='${NS_ROSTER}'/></iq>`);
      c.send('<presence/>');
    }
    await settle(...as, ...bs);
    return { a, b, as, bs };
  }

  async function settle(...cs: RawClient[]): Promise<void> {
    for (const c of cs) await c.iq(`<iq type='get' to='${D}'><ping xmlns='urn:xmpp:ping'/></iq>`);
  }

  /** Both parties agree on the subscription and on the requests in flight. */
  async function assertAgree(a: string, ca: RawClient, b: string, cb: RawClient, what: string): Promise<void> {
    const ia = await rosterItem(ca, b);
    const ib = await rosterItem(cb, a);
    assertMirrored(ia, ib, what);
    const holds = async (owner: string, from: string) => (await t.storage.roster.listPendingIn(owner)).some((p) => p.from === from);
    assert.equal(ia?.ask === 'subscribe', await holds(b, a), `${what}: a's request out and b's request in`);
    assert.equal(ib?.ask === 'subscribe', await holds(a, b), `${what}: b's request out and a's request in`);
  }

  it('four resources approve one request at once: "both" on both sides, and the requester hears one approval', async () => {
    const { a: juliet, b: nurse, as: js, bs: [nc] } = await pair(4, 1);
    // Juliet follows the Nurse first ("To").
    js[0]!.send(`<presence to='${nurse}' type='subscribe'/>`);
    await nc!.waitStanza(isPresence(juliet, 'subscribe'));
    nc!.send(`<presence to='${juliet}' type='subscribed'/>`);
    await js[0]!.waitStanza((el) => isPush(nurse)(el) && rosterItems(el)[0]!.attrs.subscription === 'to');
    nc!.send(`<presence to='${juliet}' type='subscribe'/>`);
    await Promise.all(js.map((c) => c.waitStanza(isPresence(nurse, 'subscribe'))));
    nc!.stanzas.length = 0;
    for (const c of js) c.send(`<presence to='${nurse}' type='subscribed'/>`);
    await settle(...js, nc!);
    assert.deepEqual(await rosterItem(js[0]!, nurse), { subscription: 'both' });
    assert.deepEqual(await rosterItem(nc!, juliet), { subscription: 'both' });
    // A.2.3: only the approval that found the request is routed.
    assert.equal(nc!.stanzas.filter(isPresence(juliet, 'subscribed')).length, 1);
    await assertAgree(juliet, js[0]!, nurse, nc!, 'after four approvals');
  });

  it('one resource approves while another denies: whichever came second, both sides agree', async () => {
    const { a: juliet, b: paris, as: [j1, j2], bs: [pc] } = await pair(2, 1);
    pc!.send(`<presence to='${juliet}' type='subscribe'/>`);
    await Promise.all([j1!, j2!].map((c) => c.waitStanza(isPresence(paris, 'subscribe'))));
    j1!.send(`<presence to='${paris}' type='subscribed'/>`);
    j2!.send(`<presence to='${paris}' type='unsubscribed'/>`);
    await settle(j1!, j2!, pc!);
    await assertAgree(juliet, j1!, paris, pc!, 'approve and deny at once');
    const item = await rosterItem(pc!, juliet);
    assert.ok(item?.subscription === 'to' || item?.subscription === 'none', `Paris: ${JSON.stringify(item)}`);
    assert.equal(item?.ask, undefined, 'the request was answered');
  });

  it('both ask at the same moment, then both approve at the same moment: "both" on both sides', async () => {
    const { a: romeo, b: juliet, as: [rc], bs: [jc] } = await pair();
    rc!.send(`<presence to='${juliet}' type='subscribe'/>`);
    jc!.send(`<presence to='${romeo}' type='subscribe'/>`);
    await settle(rc!, jc!, rc!);
    // "None + Pending Out/In" on both sides; each client was shown the other's request.
    assert.deepEqual(await rosterItem(rc!, juliet), { subscription: 'none', ask: 'subscribe' });
    assert.deepEqual(await rosterItem(jc!, romeo), { subscription: 'none', ask: 'subscribe' });
    assert.ok(rc!.stanzas.some(isPresence(juliet, 'subscribe')));
    assert.ok(jc!.stanzas.some(isPresence(romeo, 'subscribe')));
    await assertAgree(romeo, rc!, juliet, jc!, 'both asked');
    rc!.send(`<presence to='${juliet}' type='subscribed'/>`);
    jc!.send(`<presence to='${romeo}' type='subscribed'/>`);
    await settle(rc!, jc!, rc!);
    assert.deepEqual(await rosterItem(rc!, juliet), { subscription: 'both' });
    assert.deepEqual(await rosterItem(jc!, romeo), { subscription: 'both' });
    await assertAgree(romeo, rc!, juliet, jc!, 'both approved');
  });

  it('a contact removed and re-added while requests are in flight: both sides agree at the end', async () => {
    const { a: romeo, b: juliet, as: [r1, r2], bs: [jc] } = await pair(2, 1);
    r1!.send(`<presence to='${juliet}' type='subscribe'/>`);
    await jc!.waitStanza(isPresence(romeo, 'subscribe'));
    jc!.send(`<presence to='${romeo}' type='subscribed'/>`);
    jc!.send(`<presence to='${romeo}' type='subscribe'/>`);
    await r1!.waitStanza(isPresence(juliet, 'subscribe'));
    r1!.send(`<presence to='${juliet}' type='subscribed'/>`);
    await settle(r1!, jc!);
    assert.deepEqual(await rosterItem(r1!, juliet), { subscription: 'both' });
    // Romeo removes Juliet on one resource and at once re-adds and asks again on the other, while Juliet
    // approves again and asks again.
    r1!.send(`<iq type='set' id='rm'><query xmlns='${NS_ROSTER}'><item jid='${juliet}' subscription='remove'/></query></iq>`);
    r2!.send(`<iq type='set' id='add'><query xmlns='${NS_ROSTER}'><item jid='${juliet}' name='J'/></query></iq>`);
    r2!.send(`<presence to='${juliet}' type='subscribe'/>`);
    jc!.send(`<presence to='${romeo}' type='subscribed'/>`);
    jc!.send(`<presence to='${romeo}' type='subscribe'/>`);
    await settle(r1!, r2!, jc!, r1!, r2!);
    await assertAgree(romeo, r1!, juliet, jc!, 'after remove and re-add');
    // Whatever the interleaving, each request has been answered or is held by the other side.
    const ri = await rosterItem(r1!, juliet);
    const ji = await rosterItem(jc!, romeo);
    assert.ok(ri === undefined || ['none', 'to', 'from', 'both'].includes(ri.subscription), JSON.stringify(ri));
    assert.ok(ji === undefined || ['none', 'to', 'from', 'both'].includes(ji.subscription), JSON.stringify(ji));
  });
});
