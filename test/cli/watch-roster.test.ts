// Issue 19, finding 10: a running `key watch` answers direct key requests (XEP-0189 §7) by the roster as it is
// now, not as it was when the watch started. Juliet publishes for her Friends; Romeo, a Friend, gets the key
// directly from her watching client; Juliet moves him out of Friends from another client; PEP refuses him,
// and so does her still-running watch.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { befriend } from '../helpers/roster-setup.ts';
import { startWatch } from '../helpers/key-story.ts';
import { XmppClient, setRosterItem } from '../../src/client/index.ts';
import { runCli, within } from './run-cli.ts';

const juliet = 'juliet@capulet.lit';
const romeo = 'romeo@montague.lit';

describe('key watch follows roster pushes for direct key requests', () => {
  let t: TestServer;
  let dir: string;
  const conn = (jid: string, home: string) => ['--jid', jid, '--password', 'pw', '--server', `127.0.0.1:${t.port}`, '--insecure', '--home', join(dir, home)];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-watch-roster-'));
    t = await startTestServer({ hosts: ['capulet.lit', 'montague.lit'], insecure: false, users: { [juliet]: 'pw', [romeo]: 'pw' } });
    await befriend({ host: '127.0.0.1', port: t.port, tls: { rejectUnauthorized: false } }, { jid: juliet, password: 'pw' }, { jid: romeo, password: 'pw' }, ['Friends'], []);
    const g = await runCli(['key', 'generate', '--type', 'ed25519', '--jid', juliet, '--home', join(dir, 'juliet')]);
    assert.equal(g.code, 0, g.stderr);
    const p = await runCli(['key', 'publish', '--access', 'roster', '--group', 'Friends', ...conn(juliet, 'juliet')]);
    assert.equal(p.code, 0, p.stderr);
  });
  after(async () => {
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses Romeo once Juliet has moved him out of Friends', async () => {
    const watch = startWatch(['key', 'watch', '--json', ...conn(`${juliet}/balcony`, 'juliet')]);
    try {
      await within(watch.ready, 30_000, "juliet's watch to come online");
      const allowed = await runCli(['key', 'fetch', `${juliet}/balcony`, '--json', ...conn(romeo, 'romeo')]);
      assert.equal(allowed.code, 0, allowed.stderr);
      assert.equal(JSON.parse(allowed.stdout).source, 'direct');

      // From her phone, Juliet files Romeo under another group.
      const phone = await XmppClient.connect({ host: '127.0.0.1', port: t.port, tls: { rejectUnauthorized: false }, jid: juliet, password: 'pw', resource: 'phone' });
      await setRosterItem(phone, romeo, { groups: ['Montagues'] });
      await phone.close();

      const viaPep = await runCli(['key', 'fetch', juliet, ...conn(romeo, 'romeo')]);
      assert.equal(viaPep.code, 3, viaPep.stderr);
      const direct = await runCli(['key', 'fetch', `${juliet}/balcony`, ...conn(romeo, 'romeo')]);
      assert.equal(direct.code, 3, `the watch still answered: ${direct.stdout}`);
      assert.match(direct.stderr, /service-unavailable/);
    } finally {
      await watch.stop();
    }
  });
});
