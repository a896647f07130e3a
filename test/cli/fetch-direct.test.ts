// Issue 18, item 2: `key fetch JID` with a bare JID, when PEP has nothing to give, must ask the contact's
// online clients directly (XEP-0189 §7). It used to say "no client … is online" while the contact's
// `key watch` was online: without initial presence of its own, it never learned of any resource.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { befriend } from '../helpers/roster-setup.ts';
import { startWatch } from '../helpers/key-story.ts';
import { runCli, within } from './run-cli.ts';
import { XmppClient } from '../../src/client/index.ts';
import { NS_PUBSUB_OWNER } from '../../src/protocol/xep0060.ts';
import { NS_PUBKEY_1, NS_PUBKEY_2 } from '../../src/protocol/xep0189.ts';
import { x } from '../../src/xml/index.ts';

const alice = 'alice@localhost';
const bob = 'bob@localhost';

describe('key fetch with a bare JID asks online clients when PEP has no key', () => {
  let t: TestServer;
  let dir: string;
  const conn = (jid: string, home: string) => ['--jid', jid, '--password', 'pw', '--server', `127.0.0.1:${t.port}`, '--insecure', '--home', join(dir, home)];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-fetch-direct-'));
    t = await startTestServer({ insecure: false, users: { [alice]: 'pw', [bob]: 'pw' } });
    await befriend({ host: '127.0.0.1', port: t.port, tls: { rejectUnauthorized: false } }, { jid: alice, password: 'pw' }, { jid: bob, password: 'pw' }, ['Friends'], []);
    // Alice publishes for her Friends, then empties the node from another client: PEP has nothing to give,
    // and only her running client can still hand the key out (to the Friends it was published for).
    const g = await runCli(['key', 'generate', '--type', 'ed25519', '--jid', alice, '--home', join(dir, 'alice')]);
    assert.equal(g.code, 0, g.stderr);
    const p = await runCli(['key', 'publish', '--access', 'roster', '--group', 'Friends', ...conn(alice, 'alice')]);
    assert.equal(p.code, 0, p.stderr);
    const phone = await XmppClient.connect({ host: '127.0.0.1', port: t.port, tls: { rejectUnauthorized: false }, jid: alice, password: 'pw', resource: 'phone' });
    // Whichever version the key was published under (the other node does not exist).
    const purged = await Promise.allSettled([NS_PUBKEY_1, NS_PUBKEY_2].map((node) => phone.iq(x('iq', { type: 'set' }, x('pubsub', { xmlns: NS_PUBSUB_OWNER }, x('purge', { node }))))));
    assert.ok(purged.some((r) => r.status === 'fulfilled'), 'a key node was purged');
    await phone.close();
  });
  after(async () => {
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("gets the key from Alice's watching client", async () => {
    const watch = startWatch(['key', 'watch', ...conn(`${alice}/desk`, 'alice')]);
    try {
      await within(watch.ready, 30_000, "alice's watch to come online");
      const r = await runCli(['key', 'fetch', alice, '--json', ...conn(bob, 'bob')]);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      assert.equal(out.source, 'direct');
      assert.equal(out.keys.length, 1);
    } finally {
      await watch.stop();
    }
  });
});
