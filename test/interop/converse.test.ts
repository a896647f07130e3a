// Converse.js 14 (npm, unmodified), a third-party web client, in Debian's Chromium over RFC 7395 WebSocket:
// Juliet and Romeo (mutual contacts) log in, see each other online, initialize OMEMO (device list and bundle
// published to PEP with the publish-options Converse sends), and Juliet sends an OMEMO message that Romeo's
// Converse decrypts. Run against Prosody 0.12's mod_websocket as the reference.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { launchChromium, chromiumAvailable, screenshotDir, CHROMIUM_PATH, type BrowserHandle } from '../helpers/browser.ts';
import { serveConverse, ConverseUser, type ConversePageServer } from '../helpers/converse.ts';
import { startProsody, skipProsody, type ProsodyServer } from '../helpers/prosody.ts';
import { befriend } from '../helpers/roster-setup.ts';

const noChromium = chromiumAvailable() ? false : `${CHROMIUM_PATH} is absent (apt-get install -y chromium)`;
const WAIT = 30_000;
/** The <body> Converse puts beside an OMEMO payload, for clients without OMEMO. */
const OMEMO_FALLBACK = /^This is an OMEMO encrypted message which your client doesn.t seem to support/;
const users = { juliet: { jid: 'juliet@localhost', password: 'balcony' }, romeo: { jid: 'romeo@localhost', password: 'orchard' } };

/** The shared scenario: returns what the test asserts on. */
async function converseScenario(browser: BrowserHandle, page: ConversePageServer, websocketUrl: string, label: string) {
  const juliet = await ConverseUser.open(await browser.newContext(), page.url, { websocketUrl, ...users.juliet });
  const romeo = await ConverseUser.open(await browser.newContext(), page.url, { websocketUrl, ...users.romeo });
  const dump = () => `juliet console:\n${juliet.console.slice(-40).join('\n')}\nromeo console:\n${romeo.console.slice(-40).join('\n')}`;
  try {
    await Promise.all([juliet.ready(WAIT), romeo.ready(WAIT)]);
    await Promise.all([juliet.waitForContactOnline(users.romeo.jid, WAIT), romeo.waitForContactOnline(users.juliet.jid, WAIT)]);
    const body = `By any other word would smell as sweet (${label})`;
    const sent = await juliet.sendEncrypted(users.romeo.jid, body);
    const got = await romeo.waitForMessage(users.juliet.jid, body, WAIT);
    const dir = await screenshotDir();
    await romeo.page.screenshot({ path: join(dir, `converse-${label}-romeo.png`) });
    await juliet.page.screenshot({ path: join(dir, `converse-${label}-juliet.png`) });
    return { sent, got, body, devices: { juliet: await juliet.deviceId(), romeo: await romeo.deviceId() } };
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${dump()}`);
  }
}

describe('Converse.js against Prosody 0.12 mod_websocket (reference)', { skip: noChromium || (skipProsody() ? 'PEPKEYS_SKIP_PROSODY=1' : false), timeout: 120_000 }, () => {
  let prosody: ProsodyServer;
  let browser: BrowserHandle;
  let page: ConversePageServer;

  before(async () => {
    prosody = await startProsody({ hosts: ['localhost'], users: { [users.juliet.jid]: users.juliet.password, [users.romeo.jid]: users.romeo.password }, websocket: true });
    await befriend({ host: '127.0.0.1', port: prosody.port, tls: { rejectUnauthorized: false } }, users.juliet, users.romeo, [], []);
    page = await serveConverse();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await page?.stop();
    await prosody?.stop();
  });

  it('logs in, sees presence, and delivers an OMEMO message that the other side decrypts', async () => {
    const r = await converseScenario(browser, page, prosody.websocketUrl, 'prosody');
    assert.deepEqual(r.sent, { omemoSupported: true, omemoActive: true });
    assert.equal(r.got.text, r.body);
    assert.equal(r.got.isEncrypted, true);
    assert.equal(r.got.namespace, 'urn:xmpp:omemo:2');
    assert.match(r.got.body, OMEMO_FALLBACK);
  });
});
