// Issue 13 as it was found: Juliet runs slixmpp 1.8.3 (a client we did not write) on two resources, both
// with its default auto-approval; the Nurse subscribes. Every approval after the first meets a state that
// already has "from" and must change nothing (RFC 6121 Appendix A.2.3), so both rosters end at "both".
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startTestServer, rawSessions, type TestServer } from '../helpers/server.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/index.ts';
import { NS_ROSTER, assertMirrored, isPresence, isPush, rosterItem, rosterItems } from '../helpers/subscription-state.ts';

const SCRIPT = new URL('./slixmpp-auto-approve.py', import.meta.url).pathname;

/** Runs the slixmpp side; `lines` yields what it prints. */
function slixmpp(port: number, resources: string[]) {
  const child: ChildProcessWithoutNullStreams = spawn('/usr/bin/python3', [SCRIPT, String(port), 'juliet@capulet.lit', 'pw', resources.join(',')]);
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const r = await lines.next();
    if (r.done) throw new Error(`slixmpp exited early: ${stderr.slice(-2000)}`);
    return r.value;
  };
  return { child, next, stderr: () => stderr };
}

describe('slixmpp 1.8.3 with two auto-approving resources', () => {
  let t: TestServer;
  let dir: string;
  const s = rawSessions(() => t);
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-slixmpp-'));
    t = await startTestServer({
      hosts: ['capulet.lit'],
      users: { 'juliet@capulet.lit': 'pw', 'nurse@capulet.lit': 'pw' },
      storage: openSqliteStorage({ path: join(dir, 'db.sqlite'), synchronous: 'NORMAL' }),
    });
  });
  after(async () => {
    s.destroyAll();
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the Nurse subscribes; both rosters end at "both" and she receives Juliet\'s presence', async () => {
    // Juliet already follows the Nurse (her item is "To"), as in the report.
    const nurse = await s.login('nurse', 'ward', 'pw', 'capulet.lit');
    await nurse.iq(`<iq type='get'><query xmlns='${NS_ROSTER}'/></iq>`);
    nurse.send('<presence/>');
    const earlier = await s.login('juliet', 'earlier', 'pw', 'capulet.lit');
    await earlier.iq(`<iq type='get'><query xmlns='${NS_ROSTER}'/></iq>`);
    earlier.send(`<presence to='nurse@capulet.lit' type='subscribe'/>`);
    await nurse.waitStanza(isPresence('juliet@capulet.lit', 'subscribe'));
    nurse.send(`<presence to='juliet@capulet.lit' type='subscribed'/>`);
    await earlier.waitStanza((el) => isPush('nurse@capulet.lit')(el) && rosterItems(el)[0]!.attrs.subscription === 'to');
    earlier.destroy();

    const py = slixmpp(t.port, ['chamber', 'balcony']);
    try {
      assert.equal(await py.next(), 'ready');
      // Both slixmpp resources approve at once: "To + Pending In" → "Both", then no state change.
      nurse.send(`<presence to='juliet@capulet.lit' type='subscribe'/>`);
      await nurse.waitStanza((el) => isPush('juliet@capulet.lit')(el) && rosterItems(el)[0]!.attrs.subscription === 'both', 10_000);
      py.child.stdin.write('done\n');
      const seen = JSON.parse(await py.next()) as Record<string, Record<string, { subscription: string }>>;
      for (const res of ['chamber', 'balcony']) assert.equal(seen[res]?.['nurse@capulet.lit']?.subscription, 'both', `slixmpp ${res}: ${JSON.stringify(seen)}`);

      const juliet = await s.login('juliet', 'check', 'pw', 'capulet.lit');
      const julietsItem = await rosterItem(juliet, 'nurse@capulet.lit');
      const nursesItem = await rosterItem(nurse, 'juliet@capulet.lit');
      assert.deepEqual(julietsItem, { subscription: 'both' });
      assert.deepEqual(nursesItem, { subscription: 'both' });
      assertMirrored(julietsItem, nursesItem, 'after slixmpp auto-approval');
      juliet.send('<presence/>');
      await nurse.waitStanza(isPresence('juliet@capulet.lit/check', undefined));
    } finally {
      py.child.kill();
    }
  });
});
