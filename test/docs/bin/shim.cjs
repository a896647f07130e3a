// Sends one `pepkeys` command (arguments, PEPKEYS_* environment, working directory, piped stdin) to the docs
// test's runner (test/docs/shell-runner.ts), writes back what the in-process run printed and exits with its
// code. SIGTERM/SIGINT (`kill %1`) are passed on as a stop request.
'use strict';
const net = require('node:net');
const fs = require('node:fs');

let stdin = null;
try {
  const st = fs.fstatSync(0);
  // Only a pipe or a file is input the reader gave; /dev/null or a terminal means "nothing piped".
  if (st.isFIFO() || st.isFile()) stdin = fs.readFileSync(0, 'utf8');
} catch {}
const env = {};
for (const [k, v] of Object.entries(process.env)) if (k.startsWith('PEPKEYS_') && k !== 'PEPKEYS_DOCS_RUNNER') env[k] = v;

const sock = net.connect(process.env.PEPKEYS_DOCS_RUNNER);
sock.write(`${JSON.stringify({ argv: process.argv.slice(2), env, cwd: process.cwd(), stdin })}\n`);
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => sock.write(`${JSON.stringify({ stop: sig })}\n`));
let buf = '';
sock.setEncoding('utf8');
sock.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\n')) >= 0) {
    const m = JSON.parse(buf.slice(0, i));
    buf = buf.slice(i + 1);
    if (m.stdout) process.stdout.write(m.stdout);
    if (m.stderr) process.stderr.write(m.stderr);
    if ('exit' in m) {
      process.exitCode = m.exit;
      sock.end();
    }
  }
});
sock.on('error', (e) => {
  process.stderr.write(`docs test shim: ${e.message}\n`);
  process.exit(99);
});
