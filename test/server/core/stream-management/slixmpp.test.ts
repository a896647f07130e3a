// XEP-0198 with slixmpp 1.8.3 (the system python's, a client we did not write): it enables stream
// management with resumption, loses its connection (no closing tag), reconnects, resumes the same session
// and gets the message sent to it meanwhile, once.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startTestServer, type TestServer } from '../../../helpers/server.ts';
import { RawClient } from '../../../helpers/raw-client.ts';
import { untilHibernating } from './sm-client.ts';

const SCRIPT = fileURLToPath(new URL('./slixmpp-resume.py', import.meta.url));

describe('XEP-0198 with slixmpp', () => {
  let t: TestServer;
  let py: ChildProcess | undefined;
  let friend: RawClient | undefined;
  let out = '';
  const waitLine = (re: RegExp, ms = 20_000) => new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`slixmpp did not print ${re}; it printed:\n${out}`)), ms);
    const check = () => {
      const m = re.exec(out);
      if (m) {
        clearTimeout(timer);
        py!.stdout!.off('data', check);
        resolve(m);
      }
    };
    py!.stdout!.on('data', check);
    check();
  });

  before(async () => {
    t = await startTestServer({ users: { 'mobile@localhost': 'pw', 'friend@localhost': 'pw' } });
  });
  after(async () => {
    friend?.destroy();
    py?.kill();
    await t.stop();
  });

  it('resumes after the connection drops and receives what was sent meanwhile, once', async () => {
    py = spawn('/usr/bin/python3', [SCRIPT, String(t.port)], { stdio: ['pipe', 'pipe', 'pipe'] });
    py.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    py.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const enabled = await waitLine(/^ENABLED (\S+)$/m);
    assert.ok(enabled[1] && enabled[1] !== 'None', 'slixmpp enabled resumption');
    for (let i = 0; i < 200 && !t.server.sessions.get('mobile@localhost/slix')?.available; i++) await new Promise((r) => setTimeout(r, 10));

    py.stdin!.write('DROP\n');
    await waitLine(/^DROPPED/m);
    assert.equal(await untilHibernating(t.server), 1, 'the session hibernates');

    friend = await RawClient.connect(t.port);
    await friend.login('friend@localhost', 'pw', 'desk');
    friend.send(`<message to='mobile@localhost/slix' type='chat' id='meanwhile'><body>while you were away</body></message>`);
    py.stdin!.write('RECONNECT\n');
    await waitLine(/^RESUMED/m);
    await waitLine(/^MESSAGE meanwhile while you were away$/m);
    assert.equal(t.server.streamManagement.hibernatingCount, 0);
    assert.equal((await t.storage.offline.size('mobile@localhost')).messages, 0);
    // A later message proves the stream works; the first one came once.
    friend.send(`<message to='mobile@localhost/slix' type='chat' id='later'><body>again</body></message>`);
    await waitLine(/^MESSAGE later again$/m);
    assert.equal(out.match(/^MESSAGE meanwhile /gm)?.length, 1, out);
    py.stdin!.write('QUIT\n');
  });
});
