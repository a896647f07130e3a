// Issue 19, "a memory budget": the worst case per connection is computed from the limits
// (src/server/core/limits/memory-budget.ts, stated in docs/security.md). Here connections are driven to that
// worst case, unauthenticated ones and authenticated ones that do not read, and the server (in this
// process) must stay inside the budget; with more unsent output than the server-wide ceiling allows, some
// sessions are closed and the total stays under it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../../helpers/server.ts';
import { RawClient, NS_HEADER } from '../../helpers/raw-client.ts';
import { exposeGc } from '../../helpers/hostile-corpus.ts';
import { memoryBudget, PREAUTH_QUEUE } from '../../../src/server/core/limits/memory-budget.ts';
import { MiB, mib, sleep } from './helpers.ts';

const SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
const gc = exposeGc();
/** What this process holds: the JS heap and the buffers outside it (socket data). */
function held(): number {
  gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

/** An element of about `bytes` made of empty children, the costliest shape to hold parsed. */
const tiny = (open: string, bytes: number) => `${open}${'<a/>'.repeat(Math.floor((bytes - open.length - 20) / 4))}`;

describe('memory budget', { skip: gc ? false : 'needs gc' }, () => {
  it('24 unauthenticated connections at their worst case stay inside the budget', async (tc) => {
    const N = 24;
    const t = await startTestServer({ users: { 'juliet@localhost': 'pw' }, config: { limits: { auth_failure_delay_ms: 5000 } } });
    const clients: RawClient[] = [];
    try {
      const l = t.server.config.limits;
      const budget = memoryBudget(l);
      // Behind a failing <auth/> whose answer is delayed: as many complete elements as may wait, and one
      // element left unfinished, each just under the pre-auth element size.
      const size = l.max_preauth_stanza_bytes;
      const complete = tiny(`<abort xmlns='${SASL}'>`, size) + '</abort>';
      const attack = Buffer.from(`<auth xmlns='${SASL}' mechanism='PLAIN'>${Buffer.from('\0juliet\0no').toString('base64')}</auth>` +
        complete.repeat(PREAUTH_QUEUE - 1) + tiny(`<abort xmlns='${SASL}'>`, size));
      const base = held();
      for (let i = 0; i < N; i++) {
        const c = await RawClient.connect(t.port);
        clients.push(c);
        c.send(NS_HEADER('localhost'));
        await c.waitStanza((e) => e.local === 'features');
        c.send(attack);
      }
      await sleep(1000);
      const grew = held() - base;
      const allowed = N * budget.preauthConnection;
      tc.diagnostic(`${N} connections hold ${mib(grew)} (${mib(grew / N)} each); budget ${mib(budget.preauthConnection)} each, ${mib(allowed)} in all`);
      assert.equal(t.server.connectionStats().connections, N, 'every connection is still open (within the limits)');
      assert.ok(grew <= allowed, `held ${mib(grew)}, budget ${mib(allowed)}`);
    } finally {
      for (const c of clients) c.destroy();
      await t.stop();
    }
  });

  it('20 authenticated sessions that do not read: input at its worst, output capped by the server-wide ceiling', async (tc) => {
    const N = 20;
    const users = Object.fromEntries([['sender@localhost', 'pw'], ...Array.from({ length: N }, (_, i) => [`r${i}@localhost`, 'pw'])]);
    const t = await startTestServer({
      users,
      config: {
        limits: {
          max_stanza_bytes: 64 * 1024, bytes_per_second: 0, stanzas_per_second: 0,
          output_pause_bytes: 64 * 1024, output_max_bytes: 2 * MiB, output_total_bytes: 8 * MiB, output_stall_seconds: 60,
        },
        // The messages would also be archived, in this process's memory storage: not what is measured here.
        modules: { mam: { default: 'never' } },
      },
    });
    const clients: RawClient[] = [];
    try {
      const l = t.server.config.limits;
      const budget = memoryBudget(l);
      const sender = await RawClient.connect(t.port);
      clients.push(sender);
      await sender.login('sender@localhost', 'pw', 's');
      const readers: RawClient[] = [];
      for (let i = 0; i < N; i++) {
        const c = await RawClient.connect(t.port);
        clients.push(c);
        await c.login(`r${i}@localhost`, 'pw', 'r');
        readers.push(c);
      }
      const body = 'm'.repeat(48 * 1024);
      const partial = Buffer.from(tiny('<message><body>', l.max_stanza_bytes - 1024));
      const base = held();
      for (const c of readers) {
        c.pause();
        // An unfinished stanza just under the size limit, held parsed by the server.
        c.send(partial);
      }
      const open = (i: number) => t.server.sessions.get(`r${i}@localhost/r`) !== undefined;
      const closedCount = () => Array.from({ length: N }, (_, i) => i).filter((i) => !open(i)).length;
      // Messages round-robin to every reader until the kernel's socket buffers are full and the server would
      // hold more than the ceiling allows: a quarter of the readers closed (or every round sent).
      let peakOutput = 0;
      for (let round = 0; round < 400 && closedCount() < N / 4; round++) {
        let any = false;
        for (let i = 0; i < N; i++) {
          if (!open(i)) continue;
          any = true;
          sender.send(`<message to='r${i}@localhost/r'><body>${body}</body></message>`);
        }
        if (!any) break;
        await sender.iq(`<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`, 15_000);
        peakOutput = Math.max(peakOutput, t.server.connectionStats().bufferedOutput);
      }
      const stats = t.server.connectionStats();
      const grew = held() - base;
      const closed = closedCount();
      const allowed = N * budget.authenticatedInput + budget.outputTotal;
      tc.diagnostic(`${N} sessions: unsent output ${mib(stats.bufferedOutput)} (at most ${mib(peakOutput)}; ceiling ${mib(l.output_total_bytes)}), ${closed} closed; process holds ${mib(grew)} more, budget ${mib(allowed)}`);
      assert.ok(closed > 0, 'sessions beyond the ceiling are closed');
      assert.ok(peakOutput <= l.output_total_bytes, 'unsent output stays under the ceiling');
      assert.ok(grew <= allowed, `held ${mib(grew)}, budget ${mib(allowed)}`);
    } finally {
      for (const c of clients) c.destroy();
      await t.stop();
    }
  });
});
