// Converse.js 14 (npm, unmodified), a third-party web client, in Debian's Chromium over RFC 7395 WebSocket:
// Juliet and Romeo (mutual contacts) log in, see each other online, initialize OMEMO (device list and bundle
// published to PEP with the publish-options Converse sends), and Juliet sends an OMEMO message that Romeo's
// Converse decrypts. Run against pepkeys' /xmpp-websocket, and against Prosody 0.12's mod_websocket as the
// reference. On pepkeys, a test module records what crossed the server: the publish IQs with their
// publish-options, the message stanza (OMEMO payload, fallback body only) and any failed authentication.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { launchChromium, chromiumAvailable, screenshotDir, CHROMIUM_PATH, type BrowserHandle } from '../helpers/browser.ts';
import { serveConverse, ConverseUser, type ConversePageServer } from '../helpers/converse.ts';
import { startProsody, skipProsody, type ProsodyServer } from '../helpers/prosody.ts';
import { befriend } from '../helpers/roster-setup.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { defaultModules } from '../../src/server/modules/index.ts';
import type { ModuleDefinition } from '../../src/server/core/module-host.ts';
import type { Element } from '../../src/xml/index.ts';
import { NS_PUBSUB } from '../../src/protocol/xep0060.ts';

const noChromium = chromiumAvailable() ? false : `${CHROMIUM_PATH} is absent (apt-get install -y chromium)`;
// Generous: the CI machine may be shared; each wait ends as soon as its condition holds.
const WAIT = 45_000;
/** The <body> Converse puts beside an OMEMO payload, for clients without OMEMO. */
const OMEMO_FALLBACK = /^This is an OMEMO encrypted message which your client doesn.t seem to support/;
const users = { juliet: { jid: 'juliet@localhost', password: 'balcony' }, romeo: { jid: 'romeo@localhost', password: 'orchard' } };

/** The shared scenario: returns what the test asserts on. */
async function converseScenario(browser: BrowserHandle, page: ConversePageServer, urls: { juliet: string; romeo: string }, label: string) {
  const juliet = await ConverseUser.open(await browser.newContext(), page.url, { websocketUrl: urls.juliet, ...users.juliet });
  // wss:// with the test's self-signed certificate: this context accepts it, as a user would after checking it.
  const romeo = await ConverseUser.open(await browser.newContext({ ignoreHTTPSErrors: true }), page.url, { websocketUrl: urls.romeo, ...users.romeo });
  const dump = () => `juliet console:\n${juliet.console.slice(-40).join('\n')}\nromeo console:\n${romeo.console.slice(-40).join('\n')}`;
  try {
    await Promise.all([juliet.ready(WAIT), romeo.ready(WAIT)]);
    await Promise.all([juliet.waitForContactOnline(users.romeo.jid, WAIT), romeo.waitForContactOnline(users.juliet.jid, WAIT)]);
    await juliet.waitForBundles(users.romeo.jid, await romeo.deviceId(), WAIT);
    const body = `By any other word would smell as sweet (${label})`;
    const sent = await juliet.sendEncrypted(users.romeo.jid, body);
    const got = await romeo.waitForMessage(users.juliet.jid, body, WAIT);
    await romeo.showChat(users.juliet.jid, body, WAIT);
    const dir = await screenshotDir();
    await romeo.page.screenshot({ path: join(dir, `converse-${label}-romeo.png`) });
    await juliet.page.screenshot({ path: join(dir, `converse-${label}-juliet.png`) });
    return {
      sent, got, body,
      devices: { juliet: await juliet.deviceId(), romeo: await romeo.deviceId() },
      mechanisms: { juliet: await juliet.saslMechanism(), romeo: await romeo.saslMechanism() },
    };
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${dump()}`);
  }
}

const AXOLOTL = 'eu.siacs.conversations.axolotl';
const OMEMO2 = 'urn:xmpp:omemo:2';

interface Crossed {
  /** Each PEP publish a client sent: node, its publish-options (field → value) and the answer's type. */
  publishes: { from: string; node: string; options: Record<string, string> }[];
  messages: Element[];
  authFailures: unknown[];
}

/** Records what crossed the server, as the server routed it. */
function recorder(seen: Crossed): ModuleDefinition {
  return {
    name: 'test-converse-recorder',
    setup(api) {
      api.hook('outgoing/iq', (ctx) => {
        const publish = ctx.stanza.getChild('pubsub', NS_PUBSUB);
        const node = publish?.getChild('publish')?.attrs.node;
        if (ctx.stanza.attrs.type !== 'set' || !node) return;
        const form = publish!.getChild('publish-options')?.getChild('x', 'jabber:x:data');
        const options = Object.fromEntries((form?.getChildren('field') ?? []).filter((f) => f.attrs.var !== 'FORM_TYPE').map((f) => [f.attrs.var, f.getChildText('value') ?? '']));
        seen.publishes.push({ from: ctx.from.toString(), node, options });
      }, 1000);
      api.hook('incoming/message', (ctx) => {
        if (ctx.stanza.getChild('encrypted', OMEMO2) || ctx.stanza.getChild('encrypted', AXOLOTL) || ctx.stanza.getChild('body')) seen.messages.push(ctx.stanza);
      }, 1000);
      api.hook('auth/failed', (e) => {
        seen.authFailures.push(e);
      }, 1000);
    },
  };
}

// The two servers are driven at the same time, in one Chromium (one context per user): the file stays short.
describe('Converse.js 14 over WebSocket', { skip: noChromium, timeout: 180_000, concurrency: true }, () => {
  let browser: BrowserHandle;
  let page: ConversePageServer;
  before(async () => {
    page = await serveConverse();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await page?.stop();
  });

  describe('against pepkeys', () => {
    let t: TestServer;
    const crossed: Crossed = { publishes: [], messages: [], authFailures: [] };

    before(async () => {
      t = await startTestServer({
        users: { [users.juliet.jid]: users.juliet.password, [users.romeo.jid]: users.romeo.password },
        modules: [...defaultModules(), recorder(crossed)],
        web: true,
        config: { http: { allowed_origins: [new URL(page.url).origin] } },
      });
      for (const [a, b] of [[users.juliet.jid, users.romeo.jid], [users.romeo.jid, users.juliet.jid]] as const) {
        await t.storage.roster.putItem(a, { jid: b, subscription: 'both', groups: [] });
      }
    });
    after(async () => {
      await t?.stop();
    });

    it('logs in first time, sees presence, publishes OMEMO keys as open PEP nodes, and delivers an OMEMO message that the other side decrypts', async () => {
      // Juliet over ws://, Romeo over wss:// (the HTTPS listener).
      const r = await converseScenario(browser, page, { juliet: t.web!.wsUrl, romeo: t.web!.wssUrl }, 'pepkeys');
      console.log(`# Converse logged in with ${JSON.stringify(r.mechanisms)}; publishes: ${JSON.stringify(crossed.publishes.map((p) => [p.from.split('@')[0], p.node, p.options]))}`);
      assert.deepEqual(r.sent, { omemoSupported: true, omemoActive: true });
      assert.equal(r.got.text, r.body);
      assert.equal(r.got.isEncrypted, true);
      assert.equal(r.got.namespace, OMEMO2);
      assert.match(r.got.body, OMEMO_FALLBACK);
      assert.deepEqual(crossed.authFailures, [], 'no SASL refusal on the way in');

      // The publish-options Converse sends, and the access model pepkeys stored for each node (XEP-0384: open).
      for (const [who, device] of [[users.juliet.jid, r.devices.juliet], [users.romeo.jid, r.devices.romeo]] as const) {
        const expected: Record<string, Record<string, string>> = {
          [`${AXOLOTL}.devicelist`]: { 'pubsub#access_model': 'open' },
          [`${AXOLOTL}.bundles:${device}`]: { 'pubsub#access_model': 'open' },
          [`${OMEMO2}:devices`]: { 'pubsub#access_model': 'open' },
          [`${OMEMO2}:bundles`]: { 'pubsub#access_model': 'open', 'pubsub#max_items': 'max' },
        };
        for (const [node, options] of Object.entries(expected)) {
          const sent = crossed.publishes.filter((p) => p.from.startsWith(`${who}/`) && p.node === node);
          assert.ok(sent.length > 0, `${who} published ${node}: ${JSON.stringify(crossed.publishes)}`);
          // Every publish carries the options: Converse never had to fall back (configure, or drop the options).
          for (const p of sent) assert.deepEqual(p.options, options, `${who}'s publish-options for ${node}`);
          const stored = await t.storage.pubsub.getNode(who, node);
          assert.equal(stored?.config.access_model, 'open', `${who} ${node}: ${JSON.stringify(stored?.config)}`);
        if (options['pubsub#max_items']) assert.equal(stored?.config.max_items, options['pubsub#max_items'], `${who} ${node} max_items`);
          assert.equal((await t.storage.pubsub.getItems(who, node)).length > 0, true, `${who} ${node} holds an item`);
        }
      }

      // What crossed the server: the OMEMO 2 element, and no <body> but Converse's fallback text.
      const message = crossed.messages.find((m) => m.attrs.to?.startsWith(users.romeo.jid) && m.getChild('encrypted', OMEMO2));
      assert.ok(message, `the OMEMO message crossed the server: ${crossed.messages.map(String).join('\n')}`);
      assert.ok(message.getChild('encrypted', OMEMO2)!.getChildText('payload'), 'it carries an OMEMO payload');
      for (const m of crossed.messages) {
        const body = m.getChildText('body');
        if (body !== undefined) assert.match(body, OMEMO_FALLBACK, `no plaintext crossed the server: ${m}`);
        assert.ok(!m.toString().includes(r.body), `the plaintext never crossed the server: ${m}`);
      }
    });
  });

  describe('against Prosody 0.12 mod_websocket (the reference)', { skip: skipProsody() ? 'PEPKEYS_SKIP_PROSODY=1' : false }, () => {
    let prosody: ProsodyServer;

    before(async () => {
      prosody = await startProsody({ hosts: ['localhost'], users: { [users.juliet.jid]: users.juliet.password, [users.romeo.jid]: users.romeo.password }, websocket: true });
      await befriend({ host: '127.0.0.1', port: prosody.port, tls: { rejectUnauthorized: false } }, users.juliet, users.romeo, [], []);
    });
    after(async () => {
      await prosody?.stop();
    });

    it('logs in, sees presence, and delivers an OMEMO message that the other side decrypts', async () => {
      const r = await converseScenario(browser, page, { juliet: prosody.websocketUrl, romeo: prosody.websocketUrl }, 'prosody');
      assert.deepEqual(r.sent, { omemoSupported: true, omemoActive: true });
      assert.equal(r.got.text, r.body);
      assert.equal(r.got.isEncrypted, true);
      assert.equal(r.got.namespace, 'urn:xmpp:omemo:2');
      assert.match(r.got.body, OMEMO_FALLBACK);
    });
  });
});
