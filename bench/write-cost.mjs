// CPU per socket write over loopback (issue 20, docs/benchmarks.md): what one PEP notification costs to
// hand to a recipient's socket, by how its bytes are given: a string (what pepkeys writes: the notification
// serialised once, `to` spliced in), a Buffer made per recipient, or three Buffers (shared prefix, the `to`,
// shared suffix) joined by writev. 500 sockets, one ~950-byte write each per round, corked per tick; the
// client (a forked process) reads and drops. CPU of this process per write, user and system.
//   [ROUNDS=400] node bench/write-cost.mjs
import net from 'node:net';
import { fork } from 'node:child_process';
const N = 500, ROUNDS = Number(process.env.ROUNDS ?? 400);
if (process.argv[2] === 'client') {
  const port = Number(process.argv[3]); let open = 0;
  for (let i = 0; i < N; i++) { const s = net.connect(port, '127.0.0.1'); s.on('data', () => {}); s.on('connect', () => { if (++open === N) process.send('ok'); }); }
} else {
  const socks = [];
  const srv = net.createServer((s) => { s.setNoDelay(true); socks.push(s); });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const child = fork(new URL(import.meta.url).pathname, ['client', String(srv.address().port)]);
  await new Promise((r) => child.once('message', r));
  while (socks.length < N) await new Promise((r) => setTimeout(r, 10));
  const prefix = '<message from="alice@localhost" type="headline" id="0123456789abcdef"';
  const suffix = '><event xmlns="http://jabber.org/protocol/pubsub#event"><items node="urn:xmpp:pubkey:1"><item id="x"><pubkey xmlns="urn:xmpp:pubkey:1"><key>' + 'A'.repeat(560) + '</key></pubkey></item></items></event><addresses xmlns="http://jabber.org/protocol/address"><address type="replyto" jid="alice@localhost/r"/></addresses></message>';
  const tos = socks.map((_, i) => `user${i}@localhost/res`);
  const modes = {
    string: (s, i) => { s.cork(); s.write(`${prefix.slice(0,8)} to="${tos[i]}"${prefix.slice(8)}${suffix}`); process.nextTick(() => s.uncork()); },
    stringNoCork: (s, i) => { s.write(`${prefix.slice(0,8)} to="${tos[i]}"${prefix.slice(8)}${suffix}`); },
    buffer: (s, i, P, S) => { s.cork(); s.write(Buffer.concat([P, Buffer.from(` to="${tos[i]}"`), S])); process.nextTick(() => s.uncork()); },
    writev3: (s, i, P, S) => { s.cork(); s.write(P); s.write(Buffer.from(` to="${tos[i]}"`)); s.write(S); process.nextTick(() => s.uncork()); },
  };
  const P = Buffer.from(prefix), S = Buffer.from(suffix);
  for (const round of [1, 2]) for (const [name, f] of Object.entries(modes)) {
    // warm-up
    for (let r = 0; r < 20; r++) { socks.forEach((s, i) => f(s, i, P, S)); await new Promise((r) => setImmediate(r)); }
    const c0 = process.cpuUsage();
    for (let r = 0; r < ROUNDS; r++) { socks.forEach((s, i) => f(s, i, P, S)); await new Promise((r) => setImmediate(r)); }
    const c = process.cpuUsage(c0);
    console.log(round, name.padEnd(14), ((c.user + c.system) / (ROUNDS * N)).toFixed(2), 'µs/write', 'user', (c.user / (ROUNDS*N)).toFixed(2), 'sys', (c.system/(ROUNDS*N)).toFixed(2));
  }
  child.kill(); process.exit(0);
}
