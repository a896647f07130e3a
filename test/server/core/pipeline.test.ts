// Pipelined stanza processing: the SessionPipeline rules on their own, then a burst of publishes mixed with
// other stanzas over TCP against a SQLite-backed server, checking that every observable effect (replies,
// notifications, what a retrieval sees, the stream close) keeps the order the stanzas arrived in.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SessionPipeline } from '../../../src/server/core/pipeline.ts';
import { openSqliteStorage } from '../../../src/storage/sqlite/index.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { publishBurstTests, seedBurstAccounts } from '../../helpers/publish-burst.ts';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
const tick = () => new Promise((r) => setImmediate(r));

describe('SessionPipeline', () => {
  it('starts the next pipelinable stanza once the previous one proceeds, and orders completions', async () => {
    const p = new SessionPipeline();
    const log: string[] = [];
    const gates = [deferred(), deferred()];
    for (const i of [0, 1]) {
      await p.run(true, async (proceed, previous) => {
        log.push(`start ${i}`);
        proceed();
        await gates[i]!.promise;
        await previous;
        log.push(`reply ${i}`);
      });
    }
    assert.deepEqual(log, ['start 0', 'start 1'], 'both started while neither had completed');
    // The second one's work finishes first; its reply still waits for the first.
    gates[1]!.resolve();
    await tick();
    assert.deepEqual(log, ['start 0', 'start 1']);
    gates[0]!.resolve();
    await p.idle();
    assert.deepEqual(log, ['start 0', 'start 1', 'reply 0', 'reply 1']);
  });

  it('makes any other stanza wait until every pipelined one before it has completed', async () => {
    const p = new SessionPipeline();
    const log: string[] = [];
    const gate = deferred();
    await p.run(true, async (proceed, previous) => {
      proceed();
      await gate.promise;
      log.push('publish done');
    });
    const other = p.run(false, async (proceed, previous) => {
      assert.equal(previous, undefined, "not pipelined: nothing to wait for");
      log.push('ping');
    });
    await tick();
    assert.deepEqual(log, []);
    gate.resolve();
    await other;
    assert.deepEqual(log, ['publish done', 'ping']);
  });

  it('waits for completion when the handler never proceeds, and bounds the stanzas in flight', async () => {
    const p = new SessionPipeline(2);
    const gates = [deferred(), deferred(), deferred()];
    let started = 0;
    const run = (i: number) =>
      p.run(true, async (proceed, previous) => {
        started++;
        if (i !== 0) proceed();
        await gates[i]!.promise;
      });
    const first = run(0);
    await tick();
    assert.equal(started, 1);
    let firstDone = false;
    void first.then(() => (firstDone = true));
    await tick();
    assert.equal(firstDone, false, 'no proceed: the run lasts until the stanza completed');
    gates[0]!.resolve();
    await first;
    await run(1);
    await run(2);
    assert.equal(started, 3);
    let fourthStarted = false;
    const fourth = p.run(true, async (proceed, previous) => {
      fourthStarted = true;
      proceed();
    });
    await tick();
    assert.equal(fourthStarted, false, 'two in flight already');
    gates[1]!.resolve();
    gates[2]!.resolve();
    await fourth;
    assert.equal(fourthStarted, true);
    await p.idle();
  });
});

describe('pipelined publishes over TCP (SQLite storage)', () => {
  let t: TestServer;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-pipeline-'));
    t = await startTestServer({ storage: openSqliteStorage({ path: join(dir, 'pepkeys.sqlite') }) });
    await seedBurstAccounts(t);
  });
  after(async () => {
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  publishBurstTests(() => t);
});
