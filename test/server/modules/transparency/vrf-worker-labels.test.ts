// The VRF worker's labels alone (what the map builder asks for) and its OS priority: it is background work,
// so on Linux its thread runs at nice 19 while the server's threads keep theirs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { VrfWorker } from '../../../../src/server/modules/transparency/vrf-worker.ts';
import { mapLabel } from '../../../../src/transparency/map-label.ts';
import { vrfGenerateKeyPair } from '../../../../src/transparency/vrf.ts';
import { LOWEST_PRIORITY } from '../../../../src/runtime/thread-priority.ts';

const NODE = 'urn:xmpp:pubkey:2';

/** This process's threads and their nice values, read from /proc (field 19 of stat). */
function threadNices(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
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
  it('runs its thread at the lowest priority; the process\'s other threads keep theirs', async () => {
    const before = threadNices();
    assert.ok(![...before.values()].includes(LOWEST_PRIORITY), 'no thread is at nice 19 before the worker starts');
    const key = vrfGenerateKeyPair();
    const w = new VrfWorker();
    try {
      await w.labelOnly(key.secretKey, 'juliet@capulet.lit', NODE, 1);
      const during = threadNices();
      const niced = [...during].filter(([, nice]) => nice === LOWEST_PRIORITY).map(([tid]) => tid);
      assert.equal(niced.length, 1, 'one thread (the worker) at nice 19');
      assert.ok(!before.has(niced[0]!), 'the niced thread is a new one');
      for (const [tid, nice] of before) if (during.has(tid)) assert.equal(during.get(tid), nice, `thread ${tid} kept its priority`);
      assert.equal(during.get(process.pid), before.get(process.pid), 'the main thread kept its priority');
    } finally {
      await w.close();
    }
    await until(() => ![...threadNices().values()].includes(LOWEST_PRIORITY), 'the worker thread to end');
  });
});
