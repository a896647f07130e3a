// XEP-0191 driven by slixmpp 1.8.3's xep_0191 plugin (Debian's, a client we did not write): discovery,
// retrieval, block and unblock, and the pushes a second resource that retrieved the list receives.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const SCRIPT = new URL('./slixmpp-blocking.py', import.meta.url).pathname;

describe('slixmpp 1.8.3 blocking command', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ hosts: ['capulet.lit', 'montague.lit'], users: { 'juliet@capulet.lit': 'pw', 'romeo@montague.lit': 'pw' } });
  });
  after(() => t.stop());

  it('discovers, retrieves, blocks and unblocks; the other resource gets both pushes', async () => {
    const { stdout } = await promisify(execFile)('/usr/bin/python3', [SCRIPT, String(t.port), 'juliet@capulet.lit', 'pw', 'romeo@montague.lit'], { timeout: 60_000 });
    const seen = JSON.parse(stdout.trim().split('\n').pop()!);
    assert.deepEqual(seen, {
      feature: true,
      before: [],
      blocked: ['romeo@montague.lit'],
      after: [],
      pushes: [['block', ['romeo@montague.lit']], ['unblock', ['romeo@montague.lit']]],
    });
    assert.deepEqual(await t.storage.blocklist.list('juliet@capulet.lit'), []);
  });
});
