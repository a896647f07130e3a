// bench/profile-summary.ts: the summaries docs/benchmarks-profiles.md is made of. A real profile of a small
// workload (written by `node --cpu-prof` in a child process), and a hand-made one for the measurement
// window and the categories.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { category, render, summarise, threadOf } from '../../bench/profile-summary.ts';

const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0 });

describe('bench profile summary', () => {
  it('categorises frames by what bounds a figure', () => {
    assert.equal(category(frame('(idle)')), 'idle');
    assert.equal(category(frame('(garbage collector)')), 'GC');
    assert.match(category(frame('writeUtf8String')), /^socket write/);
    assert.equal(category(frame('openTag', 'file:///x/dist/xml/stream-parser.js')), 'XML parse');
    assert.equal(category(frame('serialize', 'file:///x/src/xml/element.ts')), 'XML serialise/build');
    assert.equal(category(frame('publishItem', 'file:///x/dist/storage/sqlite/pubsub.js')), 'storage (incl. worker messaging)');
    assert.equal(category(frame('publish', 'file:///x/src/server/pubsub/service.ts')), 'pubsub engine');
    assert.equal(category(frame('route', 'file:///x/dist/server/core/stanza-router.js')), 'core (streams, routing, sessions)');
  });

  it('counts only the samples inside the window, and gives a native callee its caller\'s category', () => {
    const dir = mkdtempSync(join(tmpdir(), 'prof-sum-'));
    try {
      // root → publishItem (storage) → run (native, no script); root → (idle)
      const nodes = [
        { id: 1, callFrame: frame('(root)'), children: [2, 4] },
        { id: 2, callFrame: frame('publishItem', 'file:///x/dist/storage/sqlite/pubsub.js'), children: [3] },
        { id: 3, callFrame: frame('run') },
        { id: 4, callFrame: frame('(idle)') },
      ];
      // Samples at t = 1000+100, +200, ... (µs): run, run, idle, publishItem, run (the last outside the window).
      const profile = { nodes, startTime: 1000, endTime: 1600, samples: [3, 3, 4, 2, 3], timeDeltas: [100, 100, 100, 100, 100] };
      const file = join(dir, 'CPU.20261205.091820.4242.0.001.cpuprofile');
      writeFileSync(file, JSON.stringify(profile));
      const s = summarise(file, 5, [1050, 1450]);
      assert.equal(s.wallMs, 0.4);
      assert.equal(s.busyMs, 0.3);
      assert.deepEqual(s.categories, [['storage (incl. worker messaging)', 0.3], ['idle', 0.1]]);
      assert.equal(threadOf(file), 'main thread');
      assert.equal(threadOf(file.replace('.4242.0.', '.4242.1.')), 'worker thread 1');
      assert.match(render(s), /\| storage \(incl\. worker messaging\) \| 0 \| 100\.0% \|/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('summarises a real --cpu-prof profile: busy time is where the work ran', () => {
    const dir = mkdtempSync(join(tmpdir(), 'prof-real-'));
    try {
      const script = "const { writeFileSync, rmSync } = require('node:fs'); const p = require('node:path').join(process.argv[1]); const t = Date.now(); while (Date.now() - t < 300) { writeFileSync(p, 'x'.repeat(1000)); } rmSync(p);";
      const r = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '-e', script, join(dir, 'scratch')], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
      assert.equal(files.length, 1);
      const s = summarise(join(dir, files[0]!), 10);
      // The script spins for its whole life: most of the profile's wall time is busy, whatever the machine's speed.
      assert.ok(s.busyMs > s.wallMs / 2, `busy ${s.busyMs} of ${s.wallMs} ms`);
      assert.ok(s.busyMs <= s.wallMs);
      assert.ok(s.top.length > 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
