// fdatasync latency on the filesystem the bench's data dirs live on (os.tmpdir()): append 12 KB (three 4 KB WAL
// frames, about one group commit) and fdatasync, N times; p50/p90/p99/mean in µs. usage: node bench/fdatasync.mjs [N]
import { openSync, writeSync, fdatasyncSync, closeSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const dir = mkdtempSync(join(tmpdir(), 'fsync-'));
const fd = openSync(join(dir, 'wal'), 'w');
const buf = Buffer.alloc(4096 * 3, 7);
const n = Number(process.argv[2] ?? 2000);
const t = [];
for (let i = 0; i < n; i++) {
  writeSync(fd, buf);
  const t0 = process.hrtime.bigint();
  fdatasyncSync(fd);
  t.push(Number(process.hrtime.bigint() - t0) / 1000);
}
closeSync(fd); rmSync(dir, { recursive: true });
t.sort((a, b) => a - b);
const q = (p) => t[Math.min(t.length - 1, Math.floor(p * t.length))].toFixed(0);
console.log(`fdatasync after a 12 KB append, n=${n}: p50 ${q(0.5)} µs, p90 ${q(0.9)} µs, p99 ${q(0.99)} µs, mean ${(t.reduce((a, b) => a + b) / n).toFixed(0)} µs; fs: ${tmpdir()}`);
