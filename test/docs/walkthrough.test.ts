// Issue 18, "Every README and docs command is executed by a test": the README quick start and the
// Juliet/Romeo walkthrough of docs/keys.md, their `sh` blocks run in order and unchanged in bash (see
// shell-runner.ts for what stands in for the reader), each in a fresh directory standing for the checkout.
import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../cli/run-cli.ts';
import { DocsShell, shBlocks, type RunRecord } from './shell-runner.ts';

const codes = (runs: RunRecord[], pred: (argv: string[]) => boolean) => runs.filter((r) => pred(r.argv)).map((r) => r.code);

describe('the documented walkthroughs run as written', () => {
  let shell: DocsShell | undefined;
  let dir: string | undefined;
  const fresh = (answers: Record<string, string>) => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-docs-'));
    // The in-process CLI resolves ./data and --home against the working directory, as the reader's shell does.
    process.chdir(dir);
    return (shell = new DocsShell(dir, answers));
  };
  afterEach(async () => {
    await shell?.close();
    process.chdir(ROOT);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('README.md quick start', async () => {
    const blocks = shBlocks(join(ROOT, 'README.md'), '## Quick start');
    assert.ok(blocks.length >= 3, 'the quick start has its commands in sh blocks');
    const sh = fresh({ 'alice@localhost': 'wonderland' });
    const r = await sh.bash(blocks.join('\n'), 240_000);
    assert.equal(r.code, 0, `bash exited ${r.code}\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /created alice@localhost/);
    assert.match(r.stdout, /published key sha-256:[0-9a-f]+.* for alice@localhost/);
    assert.match(r.stdout, /\nlocalhost\s+\d+\s+\d+\s+1\n/, 'status: the host with its one account');
    assert.ok(sh.runs.every((x) => x.argv[0] === 'serve' || x.code === 0), JSON.stringify(sh.runs.map((x) => [x.argv.join(' '), x.code])));
  });

  it("docs/keys.md Juliet/Romeo walkthrough", async () => {
    const blocks = shBlocks(join(ROOT, 'docs/keys.md'), '## CLI walkthrough of the Juliet/Romeo story');
    assert.ok(blocks.length >= 8, 'the walkthrough has its commands in sh blocks');
    const sh = fresh({});
    const r = await sh.bash(blocks.join('\n'), 480_000);
    assert.equal(r.code, 0, `bash exited ${r.code}\n${r.stdout}\n${r.stderr}`);
    const runs = sh.runs;
    const isVerify = (a: string[]) => a[0] === 'key' && a[1] === 'verify';
    // Unverified after the fetch (5), verified after the trust (0).
    assert.deepEqual(codes(runs, isVerify), [5, 0]);
    assert.match(r.stdout, /exit 5\n/);
    // The Nurse is refused in one sentence (3).
    const nurse = runs.filter((x) => x.argv[0] === 'key' && x.argv[1] === 'fetch').at(-1)!;
    assert.equal(nurse.code, 3, nurse.stderr);
    assert.match(nurse.stderr, /^pepkeys: juliet@capulet\.lit shares urn:xmpp:pubkey:2 only with certain roster groups, and you are not in them/);
    // Romeo's watch saw the new key and the revocation.
    const watch = runs.find((x) => x.argv[1] === 'watch')!;
    assert.equal(watch.code, 0, watch.stderr);
    assert.match(watch.stdout, /KEY CHANGED {2}juliet@capulet\.lit presented a NEW key/);
    assert.match(watch.stdout, /REVOKED {2}juliet@capulet\.lit key/);
    // Every other command succeeded (bash -e would have stopped otherwise, but say which one).
    const failed = runs.filter((x) => x.code !== 0 && x.argv[0] !== 'serve' && !isVerify(x.argv) && x !== nurse);
    assert.deepEqual(failed.map((x) => `${x.argv.join(' ')}: ${x.stderr}`), []);
    assert.match(r.stdout, /verified juliet@capulet\.lit's key sha-256:/);
    assert.match(r.stdout, /attested /);
  });
});
