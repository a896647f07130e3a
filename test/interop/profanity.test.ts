// profanity 0.13 (Debian), a real client we did not write, end to end against pepkeys through tmux:
// - OMEMO: both accounts generate keys; the device lists and bundles land in PEP with the options profanity
//   asks for; Juliet checks Romeo's fingerprint against the bundle in PEP, trusts it and sends a message that
//   Romeo's window shows decrypted, while the stanza that crossed the server carries only the ciphertext.
//   Before pepkeys sent XEP-0086 codes, profanity never published its device list (issue 21).
// - OX (XEP-0373): keys made with gpg; each side announces its key to PEP, the other discovers and imports
//   it, and a signed and encrypted message crosses and is decrypted.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { Profanity, profanityAvailable, PROFANITY_MISSING } from '../helpers/profanity.ts';
import { defaultModules } from '../../src/server/modules/index.ts';
import type { ModuleDefinition } from '../../src/server/core/module-host.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../cli/run-cli.ts';
import { transparencyModule } from '../../src/server/modules/transparency/index.ts';
import { decodeLeaf, type KeyEvent } from '../../src/transparency/leaf.ts';

const AXOLOTL = 'eu.siacs.conversations.axolotl';
const skip = process.env.PEPKEYS_SKIP_PROFANITY === '1';
if (!skip && !profanityAvailable()) throw new Error(PROFANITY_MISSING);

/** Records every message routed to an account, as the server routed it: what crossed the server. */
function messageRecorder(seen: string[]): ModuleDefinition {
  return {
    name: 'test-message-recorder',
    setup(api) {
      api.hook('incoming/message', (ctx) => {
        seen.push(ctx.stanza.toString());
      }, 1000);
    },
  };
}

describe('profanity end to end', { skip: skip ? 'PEPKEYS_SKIP_PROFANITY=1' : false, timeout: 180_000 }, () => {
  let t: TestServer;
  const crossed: string[] = [];
  const running: Profanity[] = [];
  const cliHome = join(mkdtempSync(join(tmpdir(), 'pepkeys-profanity-cli-')), 'home');
  const fingerprints: Record<string, string> = {};
  const devices: Record<string, string> = {};

  before(async () => {
    t = await startTestServer({
      users: { 'juliet@localhost': 'balcony', 'romeo@localhost': 'orchard' },
      // Key transparency on (issue 14): what profanity publishes is logged like any key (issue 21).
      modules: [...defaultModules(), messageRecorder(crossed), transparencyModule({ dataDir: join(cliHome, '..', 'kt'), epochMs: 3_600_000 })],
    });
  });
  after(async () => {
    for (const p of running) p.stop();
    await t.stop();
    rmSync(join(cliHome, '..'), { recursive: true, force: true });
  });

  async function client(name: string, jid: string, password: string): Promise<Profanity> {
    const p = Profanity.start(name);
    running.push(p);
    await p.connect(jid, password, t.port);
    return p;
  }

  /** The payload of the single item of a node, or undefined. */
  async function onlyItem(owner: string, node: string): Promise<string | undefined> {
    const items = await t.storage.pubsub.getItems(owner, node);
    return items[0]?.payload;
  }

  it('OMEMO: device lists and bundles published, fingerprint checked against PEP, message decrypted', async () => {
    const juliet = await client('juliet', 'juliet@localhost', 'balcony');
    const romeo = await client('romeo', 'romeo@localhost', 'orchard');
    juliet.type('/omemo gen');
    romeo.type('/omemo gen');
    const julietDevice = (await juliet.waitScreen(/Your Device ID is (\d+)/))[1]!;
    const romeoDevice = (await romeo.waitScreen(/Your Device ID is (\d+)/))[1]!;
    devices['juliet@localhost'] = julietDevice;
    devices['romeo@localhost'] = romeoDevice;

    // profanity asks for its own device list first, gets item-not-found code='404', then publishes it.
    await juliet.waitScreen(/Going to publish own device ID/);
    await romeo.waitScreen(/Going to publish own device ID/);
    for (const [owner, device] of [['juliet@localhost', julietDevice], ['romeo@localhost', romeoDevice]] as const) {
      await waitUntil(async () => (await onlyItem(owner, `${AXOLOTL}.devicelist`))?.includes(`id="${device}"`) ?? false, `${owner}'s device list`);
      const list = await t.storage.pubsub.getNode(owner, `${AXOLOTL}.devicelist`);
      const bundle = await t.storage.pubsub.getNode(owner, `${AXOLOTL}.bundles:${device}`);
      // What profanity asks for in its publish-options: both readable by anyone (OMEMO needs it).
      assert.equal(list?.config.access_model, 'open');
      assert.equal(bundle?.config.access_model, 'open');
    }

    juliet.type('/msg romeo@localhost');
    juliet.type('/omemo start');
    // profanity fetches Romeo's device list and bundle after /omemo start, so ask until it has them.
    const printed = (await juliet.retry('/omemo fingerprint romeo@localhost', /romeo@localhost's OMEMO fingerprint: ([0-9a-f-]{64,})/))[1]!;
    const shown = printed.replaceAll('-', '');
    // The fingerprint profanity shows is Romeo's identity key as published in his bundle (without the
    // 0x05 key-type byte): what the user compares with Romeo's screen is what the server serves.
    const bundle = (await onlyItem('romeo@localhost', `${AXOLOTL}.bundles:${romeoDevice}`))!;
    const identityKey = Buffer.from(bundle.match(/<identityKey>([^<]+)</)![1]!, 'base64');
    assert.equal(shown, identityKey.subarray(1).toString('hex'));
    // The pepkeys CLI sees the same key, and takes the fingerprint exactly as profanity printed it (issue 21).
    const conn = ['--jid', 'juliet@localhost', '--password', 'balcony', '--server', `127.0.0.1:${t.port}`, '--insecure', '--home', cliHome];
    const fetched = await runCli(['key', 'fetch', 'romeo@localhost', '--json', ...conn]);
    const omemo = JSON.parse(fetched.stdout).omemo as { deviceId: number; fingerprint: string }[];
    assert.deepEqual(omemo.map((d) => [String(d.deviceId), d.fingerprint.replaceAll(' ', '')]), [[romeoDevice, shown]]);
    const trusted = await runCli(['key', 'trust', 'romeo@localhost', printed, '--home', cliHome]);
    assert.equal(trusted.code, 0, trusted.stderr);
    assert.match(trusted.stdout, new RegExp(`omemo 0\\.3 device ${romeoDevice}`));
    // Trusting makes profanity fetch the bundle again and build the session from it; a message typed before
    // that answer is refused by profanity itself ("cannot be decrypted for any recipient").
    const sessions = () => juliet.log().split('Starting device session for romeo@localhost').length;
    const before = sessions();
    juliet.type(`/omemo trust ${shown}`);
    await juliet.waitScreen(/\(trusted\)/);
    await waitUntil(async () => sessions() > before, "profanity's OMEMO session with Romeo's trusted device");

    const text = 'wherefore art thou Romeo';
    juliet.type(text);
    await juliet.waitScreen(new RegExp(`me: ${text}`));
    await romeo.waitScreen(/<< chat message: juliet@localhost/);
    romeo.type('/win 2');
    await romeo.waitScreen(new RegExp(`juliet@localhost/\\S+: ${text}`));

    const sent = crossed.filter((s) => s.includes(`<encrypted xmlns="${AXOLOTL}"`));
    assert.ok(sent.length >= 1, 'an OMEMO message crossed the server');
    for (const s of crossed) assert.ok(!s.includes(text), `plaintext crossed the server: ${s}`);
    assert.ok(romeo.received().some((s) => s.includes(`<encrypted xmlns="${AXOLOTL}"`)), 'Romeo received the OMEMO element');
  });

  it('OX: keys announced to PEP, discovered and imported by the other side, message decrypted', async () => {
    const juliet = running[0]!;
    const romeo = running[1]!;
    for (const [p, jid] of [[juliet, 'juliet@localhost'], [romeo, 'romeo@localhost']] as const) {
      p.gpg('--quick-gen-key', `xmpp:${jid}`, 'ed25519', 'sign', 'never');
      const fpr = p.gpg('--list-keys', '--with-colons', `xmpp:${jid}`).match(/^fpr:+([0-9A-F]{40}):/m)![1]!;
      p.gpg('--quick-add-key', fpr, 'cv25519', 'encr', 'never');
      fingerprints[jid] = fpr;
      const file = `${p.home}/public.asc`;
      p.gpg('--armor', '--output', file, '--export', `xmpp:${jid}`);
      p.type('/win 1');
      p.type(`/ox announce ${file}`);
      await waitUntil(async () => (await onlyItem(jid, `urn:xmpp:openpgp:0:public-keys:${fpr}`)) !== undefined, `${jid}'s key node`);
      await waitUntil(async () => (await onlyItem(jid, 'urn:xmpp:openpgp:0:public-keys'))?.includes(fpr) ?? false, `${jid}'s metadata node`);
    }

    // Each side discovers the other's key through PEP and imports it into its keyring.
    romeo.type('/ox discover juliet@localhost');
    await romeo.waitScreen(new RegExp(fingerprints['juliet@localhost']!));
    romeo.type(`/ox request juliet@localhost ${fingerprints['juliet@localhost']}`);
    juliet.type(`/ox request romeo@localhost ${fingerprints['romeo@localhost']}`);
    await romeo.waitScreen(/Public Key imported/);
    await juliet.waitScreen(/Public Key imported/);
    assert.match(romeo.gpg('--list-keys', '--with-colons'), new RegExp(fingerprints['juliet@localhost']!));
    // The user's "trust" step in gpg terms: a local signature makes the imported key valid for encryption.
    juliet.gpg('--quick-lsign-key', fingerprints['romeo@localhost']!);
    romeo.gpg('--quick-lsign-key', fingerprints['juliet@localhost']!);

    juliet.type('/win 2');
    juliet.type('/omemo end');
    juliet.type('/ox start');
    await juliet.waitScreen(/OX encryption enabled/);
    const text = 'parting is such sweet sorrow';
    juliet.type(text);
    await juliet.waitScreen(new RegExp(`me: ${text}`));
    romeo.type('/win 2');
    await romeo.waitScreen(new RegExp(`juliet@localhost/\\S+: ${text}`));
    assert.ok(crossed.some((s) => s.includes('<openpgp xmlns="urn:xmpp:openpgp:0">')), 'an OX message crossed the server');
    for (const s of crossed) assert.ok(!s.includes(text), `plaintext crossed the server: ${s}`);
  });

  it("key transparency: the domain's log holds profanity's OMEMO and OX key events, with the fingerprints the clients show", async () => {
    const events = async (jid: string): Promise<KeyEvent[]> => (await t.storage.transparency.entriesOf('localhost', jid, 0, 1000)).map((e) => decodeLeaf(e.leaf));
    for (const jid of ['juliet@localhost', 'romeo@localhost']) {
      const log = await events(jid);
      const nodes = new Set(log.filter((e) => e.type === 'publish').map((e) => e.node));
      const device = devices[jid]!;
      const fpr = fingerprints[jid]!;
      assert.ok(nodes.has(`${AXOLOTL}.devicelist`), `${jid}: device list logged (${[...nodes].join(', ')})`);
      assert.ok(nodes.has(`${AXOLOTL}.bundles:${device}`), `${jid}: bundle logged`);
      assert.ok(nodes.has('urn:xmpp:openpgp:0:public-keys'), `${jid}: OX metadata logged`);
      assert.ok(nodes.has(`urn:xmpp:openpgp:0:public-keys:${fpr}`), `${jid}: OX key logged`);
      // The bundle's leaf names the identity key that profanity shows as the device's fingerprint, and the OX
      // key's leaf the fingerprint gpg shows: the ids the CLI's trust store uses, so one can be checked
      // against the other.
      const bundle = (await t.storage.pubsub.getItems(jid, `${AXOLOTL}.bundles:${device}`))[0]!.payload;
      const identity = Buffer.from(bundle.match(/<identityKey>([^<]+)</)![1]!, 'base64').subarray(1).toString('hex');
      assert.equal(log.findLast((e) => e.node === `${AXOLOTL}.bundles:${device}`)!.fingerprint, `omemo:${identity}`);
      assert.equal(log.find((e) => e.node === `urn:xmpp:openpgp:0:public-keys:${fpr}`)!.fingerprint, `openpgp-v4:${fpr.toLowerCase()}`);
      for (const e of log) assert.equal(e.jid, jid);
    }
  });
});

async function waitUntil(probe: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
