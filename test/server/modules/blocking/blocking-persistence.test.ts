// XEP-0191 §5.3: "the block remains in force … across sessions": a blocklist survives a server restart on
// the same SQLite database, and the block is enforced by the new process from its first stanza.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, rawSessions, type TestServer } from '../../../helpers/server.ts';
import { openSqliteStorage } from '../../../../src/storage/sqlite/index.ts';

const NS = 'urn:xmpp:blocking';

describe('XEP-0191 blocklists across a restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pepkeys-blocking-'));
  const path = join(dir, 'db.sqlite');
  let t: TestServer;
  const s = rawSessions(() => t);
  after(async () => {
    s.destroyAll();
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a block made before a restart holds after it', async () => {
    t = await startTestServer({ hosts: ['capulet.lit', 'montague.lit'], users: { 'juliet@capulet.lit': 'pw', 'romeo@montague.lit': 'pw' }, storage: openSqliteStorage({ path }) });
    const before = await s.login('juliet', 'chamber', 'pw', 'capulet.lit');
    await before.iq(`<iq type='set'><block xmlns='${NS}'><item jid='romeo@montague.lit'/><item jid='shakespeare.lit'/></block></iq>`);
    s.destroyAll();
    await t.stop();

    t = await startTestServer({ hosts: ['capulet.lit', 'montague.lit'], storage: openSqliteStorage({ path }) });
    const juliet = await s.login('juliet', 'chamber', 'pw', 'capulet.lit');
    const list = await juliet.iq(`<iq type='get'><blocklist xmlns='${NS}'/></iq>`);
    assert.deepEqual(list.getChild('blocklist', NS)!.getChildren('item').map((i) => i.attrs.jid), ['romeo@montague.lit', 'shakespeare.lit']);
    juliet.send('<presence/>');
    const romeo = await s.login('romeo', 'orchard', 'pw', 'montague.lit');
    romeo.send(`<message to='juliet@capulet.lit' type='chat' id='r1'><body>Still?</body></message>`);
    const answer = await romeo.waitStanza((el) => el.attrs.id === 'r1');
    assert.ok(answer.getChild('error')?.getChild('service-unavailable'), answer.toString());
  });
});
