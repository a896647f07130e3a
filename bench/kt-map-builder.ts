// The verifiable map builder's cost on the event loop (issue 14): a SQLite log grows by K key events, the
// builder adds an epoch for them, and so on for R rounds, as the server does every epoch. Compared in one
// process, alternating: "in-thread" (labels on the worker thread, one message per label batch, everything else
// on the event loop: how the server ran the builder before) and "thread" (the per-entry work and the root on
// the worker thread: map-epoch-work.ts). Prints the main thread's CPU per entry (from /proc: the worker's CPU
// is not in it), the part of it spent inside the storage calls the builder makes, and the roots of both, which
// must be equal.
// Usage: node --import tsx bench/kt-map-builder.ts [--events 200] [--rounds 30] [--jids 1000] [--runs 2]
// --jids at least --events: the map keeps one entry per (JID, node) per epoch, so a round's events must be
// distinct pairs for each to be an entry (fewer JIDs measure the coalescing instead).
// (ONLY=thread or ONLY=in-thread: one mode, e.g. under --cpu-prof.)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { openSqliteStorage } from '../src/storage/sqlite/index.ts';
import type { Storage } from '../src/storage/types.ts';
import { DomainMapBuilder, type MapFunctions, type MapThread } from '../src/server/modules/transparency/map-builder.ts';
import { VrfWorker } from '../src/server/modules/transparency/vrf-worker.ts';
import { commitmentNonce, commitValue } from '../src/transparency/map-commitment.ts';
import { vrfGenerateKeyPair } from '../src/transparency/vrf.ts';
import { rootHash } from '../src/transparency/tree.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '30' },
    jids: { type: 'string', default: '1000' },
    runs: { type: 'string', default: '2' },
  },
});
const EVENTS = Number(values.events);
const ROUNDS = Number(values.rounds);
const JIDS = Number(values.jids);
const DOMAIN = 'localhost';
const { privateKey } = generateKeyPairSync('ed25519');
const vrfKey = vrfGenerateKeyPair();
const commitSecret = new Uint8Array(randomBytes(32));
const dir = mkdtempSync(join(tmpdir(), 'pepkeys-bench-ktmap-'));

/** This thread's CPU time in ms (/proc/self/task/PID/schedstat, in ns: the main thread alone, not the worker). */
function mainThreadCpuMs(): number {
  return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
}

/**
 * The main thread's CPU spent inside the storage calls the builder makes (log reads, map reads and writes,
 * group commit included): nothing else runs on this thread meanwhile. Nested or concurrent calls count once.
 */
const inStorage = { ms: 0, depth: 0, since: 0 };
function timed<T extends object>(store: T, names: (keyof T)[]): T {
  const out = Object.create(store) as T;
  for (const name of names) {
    const fn = store[name] as (...a: unknown[]) => Promise<unknown>;
    (out as Record<keyof T, unknown>)[name] = async (...a: unknown[]) => {
      if (inStorage.depth++ === 0) inStorage.since = mainThreadCpuMs();
      try {
        return await fn.apply(store, a);
      } finally {
        if (--inStorage.depth === 0) inStorage.ms += mainThreadCpuMs() - inStorage.since;
      }
    };
  }
  return out;
}

async function logEvents(storage: Storage, from: number, n: number): Promise<void> {
  const writes: Promise<unknown>[] = [];
  for (let i = from; i < from + n; i++) {
    const jid = `u${i % JIDS}@${DOMAIN}`;
    const node = 'urn:xmpp:pubkey:2';
    writes.push(storage.pubsub.publishItem({ service: jid, node, id: `i${i}`, publisher: `${jid}/r`, payload: `<x n='${i}'/>`, publishedAt: 1 } as never, undefined, {
      domain: DOMAIN,
      event: { type: 'publish', time: 1_760_000_000_000 + i, jid, node, itemId: `i${i}`, payload: `<x n='${i}'/>` },
    }));
  }
  await Promise.all(writes);
}

async function run(mode: 'in-thread' | 'thread', runNo: number): Promise<{ usPerEntry: number; root: string }> {
  const storage = openSqliteStorage({ path: join(dir, `${mode}-${runNo}.sqlite`), synchronous: 'NORMAL' });
  for (let j = 0; j < JIDS; j++) await storage.pubsub.createNode({ service: `u${j}@${DOMAIN}`, node: 'urn:xmpp:pubkey:2', owner: `u${j}@${DOMAIN}`, config: {}, createdAt: 1 } as never);
  const vrf = new VrfWorker();
  const ktMap = timed(storage.ktMap!, ['range', 'latestVersion', 'addEpoch', 'latestEpoch']);
  const log = timed(storage.transparency, ['entries', 'nodes']);
  const fns: MapFunctions | MapThread = mode === 'thread'
    ? vrf.mapThread(DOMAIN, vrfKey.secretKey, commitSecret, ktMap)
    : { label: (jid, node, version) => vrf.labelOnly(vrfKey.secretKey, jid, node, version), commit: (label, value) => commitValue(commitmentNonce(commitSecret, label), label, value) };
  const b = new DomainMapBuilder(DOMAIN, privateKey, log, ktMap, fns, Date.now);
  let cpu = 0;
  inStorage.ms = 0;
  let size = 0;
  for (let r = 0; r < ROUNDS; r++) {
    await logEvents(storage, size, EVENTS);
    size += EVENTS;
    // The server passes the root of the tree head it just signed (not the builder's cost).
    const logRoot = await rootHash(size, (refs) => storage.transparency.nodes(DOMAIN, refs));
    const c0 = mainThreadCpuMs();
    await b.update(size, logRoot);
    cpu += mainThreadCpuMs() - c0;
  }
  const last = (await b.latest())!;
  await vrf.close();
  await storage.close();
  const per = (ms: number) => Math.round((ms * 1000 * 10) / size) / 10;
  const usPerEntry = per(cpu);
  console.log(JSON.stringify({
    bench: 'kt-map-builder', mode, run: runNo, entries: size, epochs: last.epoch,
    mainThreadUsPerEntry: usPerEntry, inStorageUsPerEntry: per(inStorage.ms), restUsPerEntry: per(cpu - inStorage.ms),
  }));
  return { usPerEntry, root: Buffer.from(last.root).toString('hex') };
}

try {
  for (let r = 1; r <= Number(values.runs); r++) {
    // The same events and keys: both builders must end on the same root.
    const a = process.env.ONLY === 'thread' ? undefined : await run('in-thread', r);
    const b = process.env.ONLY === 'in-thread' ? undefined : await run('thread', r);
    if (a && b && a.root !== b.root) throw new Error(`roots differ: ${a?.root} / ${b.root}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
