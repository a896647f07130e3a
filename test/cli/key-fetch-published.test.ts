// Issue 21: `key fetch JID` also shows the contact's OMEMO devices and OX keys, with the fingerprints their
// clients print (here published the way profanity publishes them), beside the XEP-0189 keys; and shows them
// before saying there is no XEP-0189 key when the contact has only those.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, rawSessions, type TestServer } from '../helpers/server.ts';
import { runCli } from './run-cli.ts';

const AXOLOTL = 'eu.siacs.conversations.axolotl';
const OPEN = `<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field><field var='pubsub#access_model'><value>open</value></field></x></publish-options>`;
const publish = (node: string, item: string) => `<iq type='set'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='${node}'>${item}</publish>${OPEN}</pubsub></iq>`;

describe('key fetch shows OMEMO devices', () => {
  let t: TestServer;
  let dir: string;
  const sessions = rawSessions(() => t);
  const identity = randomBytes(32);
  const conn = (jid: string, home: string) => ['--jid', jid, '--password', 'pw', '--server', `127.0.0.1:${t.port}`, '--insecure', '--home', join(dir, home)];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-fetch-published-'));
    t = await startTestServer({ users: { 'juliet@localhost': 'pw', 'romeo@localhost': 'pw' } });
    const juliet = await sessions.login('juliet', 'profanity');
    for (const xml of [
      publish(`${AXOLOTL}.devicelist`, `<item id='current'><list xmlns='${AXOLOTL}'><device id='2104777216'/></list></item>`),
      publish(`${AXOLOTL}.bundles:2104777216`, `<item id='current'><bundle xmlns='${AXOLOTL}'><identityKey>${Buffer.concat([Buffer.from([5]), identity]).toString('base64')}</identityKey><prekeys/></bundle></item>`),
    ]) assert.equal((await juliet.iq(xml)).attrs.type, 'result');
  });
  after(async () => {
    sessions.destroyAll();
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists them with the grouped fingerprint, then says there is no XEP-0189 key (exit code unchanged)', async () => {
    const r = await runCli(['key', 'fetch', 'juliet@localhost', ...conn('romeo@localhost', 'romeo')]);
    const grouped = identity.toString('hex').replace(/(.{8})(?!$)/g, '$1 ');
    assert.match(r.stdout, /OMEMO devices:/);
    assert.match(r.stdout, /2104777216/);
    assert.ok(r.stdout.includes(grouped), r.stdout);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /juliet@localhost/);
  });

  it('puts them in --json under omemo', async () => {
    const r = await runCli(['key', 'fetch', 'juliet@localhost', '--json', ...conn('romeo@localhost', 'romeo')]);
    const first = JSON.parse(r.stdout);
    assert.equal(first.omemo[0].deviceId, 2104777216);
    assert.equal(first.omemo[0].fingerprint.replaceAll(' ', ''), identity.toString('hex'));
  });
});
