// Issue 21: `key watch` reports a contact's OMEMO device-list changes (the event a user must notice: a new
// device can read what is encrypted to that account), including a device added while no watch ran.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, rawSessions, type TestServer } from '../helpers/server.ts';
import { befriend } from '../helpers/roster-setup.ts';
import { startWatch } from '../helpers/key-story.ts';
import { runCli, within } from './run-cli.ts';

const AXOLOTL = 'eu.siacs.conversations.axolotl';
const OPEN = `<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field><field var='pubsub#access_model'><value>open</value></field></x></publish-options>`;
const deviceList = (ids: number[]) =>
  `<iq type='set'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='${AXOLOTL}.devicelist'><item id='current'><list xmlns='${AXOLOTL}'>${ids.map((i) => `<device id='${i}'/>`).join('')}</list></item></publish>${OPEN}</pubsub></iq>`;

describe('key watch reports OMEMO device-list changes', () => {
  let t: TestServer;
  let dir: string;
  const sessions = rawSessions(() => t);
  const conn = () => ['--jid', 'romeo@localhost', '--password', 'pw', '--server', `127.0.0.1:${t.port}`, '--insecure', '--home', join(dir, 'romeo')];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-watch-omemo-'));
    t = await startTestServer({ users: { 'juliet@localhost': 'pw', 'romeo@localhost': 'pw' } });
    await befriend({ host: '127.0.0.1', port: t.port, tls: { rejectUnauthorized: false } }, { jid: 'juliet@localhost', password: 'pw' }, { jid: 'romeo@localhost', password: 'pw' }, [], []);
    assert.equal((await runCli(['key', 'generate', '--type', 'ed25519', '--no-passphrase', '--jid', 'romeo@localhost', '--home', join(dir, 'romeo')])).code, 0);
  });
  after(async () => {
    sessions.destroyAll();
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('first sight, then a new device, then one added while no watch ran', async () => {
    const juliet = await sessions.login('juliet', 'profanity');
    assert.equal((await juliet.iq(deviceList([101]))).attrs.type, 'result');

    const first = startWatch(['key', 'watch', '--count', '2', ...conn()]);
    await first.ready;
    assert.equal((await juliet.iq(deviceList([101, 202]))).attrs.type, 'result');
    const one = await within(first.exited, 15_000, 'the first watch to see two events');
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /OMEMO devices of juliet@localhost: 101 \(first seen\)/);
    assert.match(one.stdout, /NEW OMEMO device 202 on juliet@localhost/);
    assert.equal(statSync(join(dir, 'romeo', 'omemo-devices.json')).mode & 0o777, 0o600);

    // Juliet adds a device while Romeo's watch is not running: the next watch still calls it new.
    assert.equal((await juliet.iq(deviceList([101, 202, 303]))).attrs.type, 'result');
    const second = startWatch(['key', 'watch', '--count', '1', '--json', ...conn()]);
    second.ready.catch(() => {}); // it may end before anyone awaits its start
    const two = await within(second.exited, 15_000, 'the second watch to see the added device');
    assert.equal(two.code, 0, two.stderr);
    const event = JSON.parse(two.stdout.trim().split('\n').pop()!);
    assert.equal(event.event, 'omemo-devices');
    assert.deepEqual(event.added, [303]);
    assert.equal(event.firstSeen, false);
  });
});
