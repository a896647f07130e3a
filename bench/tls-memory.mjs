// Per-session memory of Node TLS server sockets by option (issue 20, docs/benchmarks.md): the parent opens N
// client connections, the forked child is the server and reports its RSS/heap after a full GC before and after.
//   plain      net sockets only
//   shared     STARTTLS-like: new TLSSocket(plain, {isServer, secureContext: one shared context}) (what pepkeys does)
//   starttls   plain reads first, then the same socket wrapped (the STARTTLS order)
//   perctx     a secure context created per session (a per-session copy of the certificate chain and key)
//   frag512    shared context + setMaxSendFragment(512)
// usage: CERT=cert.pem KEY=key.pem [ROUNDS=8 SIZE=400] node bench/tls-memory.mjs plain|shared|starttls|perctx|frag512 N
//   ROUNDS messages per session, each answered by the server; SIZE bytes each way (echo), or DIR=out: the
//   client sends CSIZE bytes and the server answers SIZE; DIR=in: the server answers one byte. FRAG=n:
//   setMaxSendFragment(n) (starttls); SPLIT=n: the server's writes handed over in pieces of at most n bytes.
import { fork } from 'node:child_process';
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
const [variant, nStr] = process.argv.slice(2);
const N = Number(nStr ?? 2000);
const cert = readFileSync(process.env.CERT), key = readFileSync(process.env.KEY);
// The server's answer to each client message: an echo, one byte (DIR=in) or SIZE bytes (DIR=out).
const reply = (d) => (process.env.DIR === 'in' ? 'k' : process.env.DIR === 'out' ? 'y'.repeat(Number(process.env.SIZE)) : d);
// Hands the TLS socket each write in pieces of at most n bytes (one SSL_write each).
function splitWrites(t, n) {
  const w = t.write.bind(t);
  t.write = (d) => {
    const b = Buffer.from(d);
    for (let i = 0; i < b.length; i += n) w(b.subarray(i, i + n));
    return true;
  };
}
if (process.env.CHILD) {
  const ctx = tls.createSecureContext({ cert, key, minVersion: 'TLSv1.2' });
  const socks = [];
  const srv = net.createServer((s) => {
    if (variant === 'plain') { s.on('data', () => {}); socks.push(s); return; }
    if (variant === 'starttls' || variant === 'starttls-paused') {
      // like pepkeys: read plain data first, then wrap the same socket
      s.on('data', () => {
        s.removeAllListeners('data');
        if (variant === 'starttls-paused') s.pause();
        s.write('proceed');
        const t = new tls.TLSSocket(s, { isServer: true, secureContext: ctx });
        if (process.env.FRAG) t.setMaxSendFragment(Number(process.env.FRAG));
        if (process.env.SPLIT) splitWrites(t, Number(process.env.SPLIT));
        t.on('data', (d) => t.write(reply(d)));
        t.on('error', () => {});
        socks.push(t);
      });
      return;
    }
    const t = new tls.TLSSocket(s, { isServer: true, secureContext: variant === 'perctx' ? tls.createSecureContext({ cert, key, minVersion: 'TLSv1.2' }) : ctx });
    if (variant === 'frag512') t.setMaxSendFragment(512);
    t.on('data', (d) => t.write(reply(d)));
    t.on('error', () => {});
    socks.push(t);
  });
  srv.listen(0, '127.0.0.1', () => process.send({ port: srv.address().port }));
  const rss = () => { gc(); gc(); return process.memoryUsage(); };
  process.on('message', (m) => {
    if (m === 'measure') process.send({ mem: rss(), n: socks.length });
    if (m === 'exit') process.exit(0);
  });
} else {
  const child = fork(new URL(import.meta.url).pathname, [variant, String(N)], { env: { ...process.env, CHILD: '1' }, execArgv: ['--expose-gc'] });
  const msg = () => new Promise((r) => child.once('message', r));
  const { port } = await msg();
  await new Promise((r) => setTimeout(r, 300));
  child.send('measure'); const before = (await msg()).mem;
  const conns = [];
  for (let i = 0; i < N; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, N - i) }, () => new Promise((res, rej) => {
      const s = net.connect(port, '127.0.0.1', () => {
        if (variant === 'plain') { conns.push(s); s.write('x'); return res(); }
        const go = () => {
        const t = tls.connect({ socket: s, rejectUnauthorized: false, servername: 'localhost' }, () => {
          // chatty: a login's worth of exchanges (stream header, SASL, bind, roster, presence: ~8 records each way)
          let k = Number(process.env.ROUNDS ?? 1);
          const msg = 'x'.repeat(Number(process.env.CSIZE ?? process.env.SIZE ?? 5));
          const step = () => { if (k-- <= 0) return res(); t.write(msg); t.once('data', step); };
          step();
        });
        t.on('error', rej); conns.push(t);
        };
        if (variant.startsWith('starttls')) { s.write('starttls'); s.once('data', go); } else go();
      });
      s.on('error', rej);
    })));
  }
  await new Promise((r) => setTimeout(r, 1000));
  child.send('measure'); const after = await msg();
  const kb = (k) => ((after.mem[k] - before[k]) / 1024 / N).toFixed(2);
  console.log(`${variant.padEnd(8)} N=${N}: RSS ${kb('rss')} KB/session, JS heap ${kb('heapUsed')}, external ${kb('external')} (server sessions ${after.n})`);
  child.send('exit');
  for (const c of conns) c.destroy();
  setTimeout(() => process.exit(0), 200);
}
