// Runs every test file under test/ with node:test. Node 20 does not discover .ts test files on its own,
// so the list is built here and passed explicitly.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function collect(dir, out) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) collect(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const filter = process.argv.slice(2);
let files = collect('test', []);
if (filter.length) files = files.filter((f) => filter.some((x) => f.includes(x)));
// Test files run side by side, each in its own process. Most of their time is spent waiting on sockets,
// child servers and disks, so more files than cores pay off; measured on the 2-core machine (see
// docs/architecture.md, Tests). PEPKEYS_TEST_CONCURRENCY overrides it.
const concurrency = Number(process.env.PEPKEYS_TEST_CONCURRENCY ?? 4);
// TAP as before, then the failures again at the very end (CI shows only the tail of the output).
const reporters = ['--test-reporter=tap', '--test-reporter-destination=stdout', '--test-reporter=./scripts/failures-reporter.mjs', '--test-reporter-destination=stdout'];
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...reporters, ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
