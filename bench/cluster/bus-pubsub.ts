// NATS against Redis pub/sub as the cluster bus, on this machine: each broker started here on loopback,
// one publisher connection and one subscriber connection (as two cluster nodes have), a payload the size of
// a PEP notification batch entry. Measures the round trip (publish → subscriber → echo back), p50/p99 over
// sequential pings, and throughput (messages/s) of a burst the subscriber must receive entirely.
//   node --import tsx bench/cluster/bus-pubsub.ts [--messages 50000] [--pings 2000] [--bytes 400]
import { spawn, type ChildProcess } from 'node:child_process';
import { connect as tcpConnect, createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connect as natsConnect } from '@nats-io/transport-node';
import { createClient } from 'redis';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '50000' }, pings: { type: 'string', default: '2000' }, bytes: { type: 'string', default: '400' } } });
const MESSAGES = Number(values.messages);
const PINGS = Number(values.pings);
const PAYLOAD = 'x'.repeat(Number(values.bytes));

interface Pair {
  name: string;
  publish(subject: string, data: string): void;
  subscribe(subject: string, fn: (data: string) => void): Promise<void>;
  /** Round trip to the broker, so that the subscriptions are in place. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

async function listening(port: number): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const ok = await new Promise<boolean>((r) => {
      const c = tcpConnect(port, '127.0.0.1');
      c.once('connect', () => (c.destroy(), r(true)));
      c.once('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${port}`);
}

async function natsPair(port: number): Promise<Pair> {
  // Node A and node B, one connection each: B answers pings on 'echo', A listens there.
  const a = await natsConnect({ servers: `127.0.0.1:${port}` });
  const b = await natsConnect({ servers: `127.0.0.1:${port}` });
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  return {
    name: 'NATS',
    publish: (s, d) => (s.startsWith('echo') ? b : a).publish(s, enc.encode(d)),
    async subscribe(s, fn) {
      const c = s.startsWith('echo') ? a : b;
      c.subscribe(s, { callback: (_e, m) => fn(dec.decode(m.data)) });
      await c.flush();
    },
    flush: async () => void (await Promise.all([a.flush(), b.flush()])),
    close: async () => void (await Promise.all([a.close(), b.close()])),
  };
}

async function redisPair(port: number): Promise<Pair> {
  const url = `redis://127.0.0.1:${port}`;
  // Redis needs a connection per direction per node: a subscribed connection can only (un)subscribe.
  const pubA = createClient({ url });
  const subB = createClient({ url });
  const pubB = createClient({ url });
  const subA = createClient({ url });
  const all = [pubA, subB, pubB, subA];
  await Promise.all(all.map((c) => c.connect()));
  return {
    name: 'Redis',
    publish: (s, d) => void (s.startsWith('echo') ? pubB : pubA).publish(s, d),
    async subscribe(s, fn) {
      await (s.startsWith('echo') ? subA : subB).subscribe(s, fn);
    },
    flush: async () => void (await Promise.all([pubA.ping(), pubB.ping()])),
    close: async () => void (await Promise.all(all.map((c) => c.quit()))),
  };
}

async function measure(p: Pair): Promise<{ p50: number; p99: number; perSecond: number }> {
  // Round trip: node A publishes "ping", node B answers on "echo", A waits for it before the next ping.
  let waiting: (() => void) | undefined;
  await p.subscribe('ping', (d) => p.publish('echo', d));
  await p.subscribe('echo', () => waiting?.());
  await p.flush();
  const rtts: number[] = [];
  for (let i = 0; i < PINGS; i++) {
    const t0 = process.hrtime.bigint();
    await new Promise<void>((r) => {
      waiting = r;
      p.publish('ping', PAYLOAD);
    });
    rtts.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  rtts.sort((a, b) => a - b);
  // Burst: A publishes MESSAGES, B counts until it has them all.
  let got = 0;
  let done: (() => void) | undefined;
  await p.subscribe('burst', () => {
    if (++got === MESSAGES) done?.();
  });
  await p.flush();
  const t0 = process.hrtime.bigint();
  const all = new Promise<void>((r) => (done = r));
  for (let i = 0; i < MESSAGES; i++) {
    p.publish('burst', PAYLOAD);
    // Let the client write now and then, as a server publishing between other work does.
    if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
  }
  await all;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { p50: rtts[Math.floor(rtts.length * 0.5)]!, p99: rtts[Math.floor(rtts.length * 0.99)]!, perSecond: MESSAGES / seconds };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pepkeys-bus-bench-'));
  const children: ChildProcess[] = [];
  try {
    const natsPort = await freePort();
    children.push(spawn('nats-server', ['-a', '127.0.0.1', '-p', String(natsPort)], { stdio: 'ignore' }));
    const redisPort = await freePort();
    children.push(spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' }));
    await listening(natsPort);
    await listening(redisPort);
    const rows = [];
    for (const make of [() => natsPair(natsPort), () => redisPair(redisPort)]) {
      const p = await make();
      const r = await measure(p);
      await p.close();
      rows.push({ bus: p.name, ...r });
      console.log(JSON.stringify({ bench: 'cluster-bus', bus: p.name, messages: MESSAGES, pings: PINGS, bytes: PAYLOAD.length, rtt_p50_ms: +r.p50.toFixed(3), rtt_p99_ms: +r.p99.toFixed(3), msgs_per_s: Math.round(r.perSecond) }));
    }
    console.log('\nBUS    RTT p50 ms  RTT p99 ms  MSG/S (burst)');
    for (const r of rows) console.log(`${r.bus.padEnd(5)}  ${r.p50.toFixed(3).padStart(10)}  ${r.p99.toFixed(3).padStart(10)}  ${Math.round(r.perSecond).toString().padStart(13)}`);
  } finally {
    for (const c of children) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
