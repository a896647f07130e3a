// The VRF worker's labels alone (what the map builder asks for) and its OS priority: it is background work in
// a process of its own, so on Linux every thread of that process (V8's platform threads too) runs at nice 19
// while the server's threads keep theirs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { VrfWorker } from '../../../../src/server/modules/transparency/vrf-worker.ts';
import { mapLabel } from '../../../../src/transparency/map-label.ts';
import { vrfGenerateKeyPair } from '../../../../src/transparency/vrf.ts';
import { LOWEST_PRIORITY } from '../../../../src/runtime/thread-priority.ts';

const NODE = 'urn:xmpp:pubkey:2';

/** A process's threads and their nice values, read from /proc (field 19 of stat). */
function threadNices(pid: number | 'self' = 'self'): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // The command name (field 2) is in parentheses and may hold spaces: fields after it start at 3.
      out.set(Number(tid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
    } catch {
      /* the thread ended while listed */
    }
  }
  return out;
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('VRF worker: labels alone', () => {
  it('labels asked one by one in a turn (two keys interleaved) are mapLabel\'s labels, in order', async () => {
    const a = vrfGenerateKeyPair();
    const b = vrfGenerateKeyPair();
    const w = new VrfWorker();
    try {
      const asked = Array.from({ length: 40 }, (_, i) => ({ key: i % 3 === 0 ? b : a, jid: `u${i}@capulet.lit`, version: 1 + (i % 5) }));
      const got = await Promise.all(asked.map((q) => w.labelOnly(q.key.secretKey, q.jid, NODE, q.version)));
      asked.forEach((q, i) => assert.deepEqual(Buffer.from(got[i]!), Buffer.from(mapLabel(q.key.secretKey, q.jid, NODE, q.version).label), `item ${i}`));
      // A later turn is a later request, answered the same way.
      assert.deepEqual(Buffer.from(await w.labelOnly(a.secretKey, 'u1@capulet.lit', NODE, 2)), Buffer.from(got[1]!));
    } finally {
      await w.close();
    }
  });

  it('a triple without an encoding fails its request; the worker goes on answering', async () => {
    const key = vrfGenerateKeyPair();
    const w = new VrfWorker();
    try {
      await assert.rejects(w.labelOnly(key.secretKey, 'juliet@capulet.lit/balcony', NODE, 1), /bare JID/);
      assert.equal((await w.labelOnly(key.secretKey, 'juliet@capulet.lit', NODE, 1)).length, 32);
    } finally {
      await w.close();
    }
    await assert.rejects(w.labelOnly(key.secretKey, 'juliet@capulet.lit', NODE, 1), /closed/);
  });

  it('labels asked before close() are failed, not left pending', async () => {
    const key = vrfGenerateKeyPair();
    const w = new VrfWorker();
    const asked = w.labelOnly(key.secretKey, 'juliet@capulet.lit', NODE, 1);
    await w.close();
    await assert.rejects(asked, /closed/);
  });
});

describe('VRF worker: OS priority', { skip: process.platform !== 'linux' && 'thread priorities are read from Linux /proc' }, () => {
  it('runs every thread of its process at the lowest priority; this process\'s threads keep theirs', async () => {
    const before = threadNices();
    assert.ok(![...before.values()].includes(LOWEST_PRIORITY), 'no thread here is at nice 19 before the worker starts');
    const key = vrfGenerateKeyPair();
    const w = new VrfWorker();
    let pid: number | undefined;
    try {
      await w.labelOnly(key.secretKey, 'juliet@capulet.lit', NODE, 1);
      pid = w.pid;
      assert.ok(pid !== undefined && pid !== process.pid, 'the worker is a process of its own');
      const worker = threadNices(pid);
      // V8's platform threads (GC, compilation) and libuv's, not only the thread computing labels.
      assert.ok(worker.size >= 4, `the worker's threads are listed (${worker.size})`);
      for (const [tid, nice] of worker) assert.equal(nice, LOWEST_PRIORITY, `worker thread ${tid} at nice 19`);
      const during = threadNices();
      for (const [tid, nice] of before) if (during.has(tid)) assert.equal(during.get(tid), nice, `thread ${tid} kept its priority`);
      assert.ok(![...during.values()].includes(LOWEST_PRIORITY), 'no thread of this process was lowered');
    } finally {
      await w.close();
    }
    await until(() => !existsSync(`/proc/${pid}/task`), 'the worker process to end');
  });
});
