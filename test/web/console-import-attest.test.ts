// The console's "import a key" and "attest" in Chromium against a server started as `pepkeys serve` starts it:
// Romeo imports an Ed25519 key made by node:crypto (unencrypted PKCS#8 PEM, what `pepkeys key export --secret`
// writes without a passphrase) and publishes it; Juliet, a Node SDK client over TCP, reads it from Romeo's PEP
// and finds exactly that key. Romeo then attests Juliet's key from Contacts, and the attestation Juliet reads
// from his PEP (and the one he sends her) verifies with the Node SDK against his published key.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { XmppServer } from '../../src/server/index.ts';
import { XmppClient, KeysClient, type AttestationEvent } from '../../src/client/index.ts';
import {
  TrustStore, MemoryTrustBackend, buildPubkey, createPubkey, pubkeyPrintId, verifyAttestation, verifierFromPubkey, type Pubkey,
} from '../../src/keys/index.ts';
import { formatBundle } from '../../src/cli/key/key-bundle.ts';
import { serialize } from '../../src/xml/index.ts';
import { startConsoleServer, type ConsoleServer } from '../helpers/console-server.ts';
import { chromiumAvailable, launchChromium, screenshotDir, type BrowserHandle } from '../helpers/browser.ts';

const JULIET = 'juliet@localhost';
const ROMEO = 'romeo@localhost';
const PASSWORD = 'wherefore art thou';

const contact = (page: Page, jid: string) => page.locator(`[data-testid=contact][data-jid="${jid}"]`);
const spaced = (print: string) => print.replace(/^sha-256:/, '').toUpperCase().match(/.{4}/g)!.join(' ');

describe('browser key console: import and attest', { skip: !chromiumAvailable() && 'no Chromium' }, () => {
  let cs: ConsoleServer | undefined;
  let server: XmppServer;
  let url: string;
  let browser: BrowserHandle;
  let romeo: Page;
  let julietClient: XmppClient;
  let juliet: KeysClient;
  let julietKey: Pubkey;
  let romeoKey: Pubkey;
  const romeoPair = generateKeyPairSync('ed25519');

  before(async () => {
    cs = await startConsoleServer([JULIET, ROMEO], PASSWORD);
    server = cs.server;
    url = cs.url;
    await server.storage.roster.putItem(JULIET, { jid: ROMEO, subscription: 'both', groups: ['Friends'] });
    await server.storage.roster.putItem(ROMEO, { jid: JULIET, subscription: 'both', groups: ['Friends'] });

    // Juliet uses the Node SDK over TCP and publishes her key before Romeo opens the console.
    julietClient = await XmppClient.connect({ jid: JULIET, password: PASSWORD, host: '127.0.0.1', port: cs.c2sPort, requireTls: false, tls: { rejectUnauthorized: false }, resource: 'node' });
    juliet = new KeysClient(julietClient, { trust: new TrustStore(new MemoryTrustBackend()) });
    await juliet.onlineAndReady();
    const jpair = generateKeyPairSync('ed25519');
    julietKey = createPubkey({ publicKey: jpair.publicKey, jid: JULIET, begin: new Date(Date.now() - 60_000), end: new Date(Date.now() + 864e5) });
    await juliet.publishKey(julietKey, { accessModel: 'presence' });

    browser = await launchChromium();
    romeo = await (await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true })).newPage();
  });

  after(async () => {
    await julietClient?.close();
    await browser?.close();
    await cs?.stop();
  });

  it('refuses a passphrase-protected PEM with one sentence saying what to do', async () => {
    await romeo.goto(url);
    await romeo.getByLabel('Address').fill(ROMEO);
    await romeo.getByLabel('Password').fill(PASSWORD);
    await romeo.getByRole('button', { name: 'Log in' }).click();
    await romeo.getByTestId('whoami').filter({ hasText: ROMEO }).waitFor();
    const encrypted = romeoPair.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }) as string;
    await romeo.getByLabel('Or import a key file').setInputFiles({ name: 'romeo.pem', mimeType: 'application/x-pem-file', buffer: Buffer.from(encrypted) });
    const error = romeo.getByRole('alert');
    await error.waitFor();
    assert.equal(await error.textContent(), 'This key is protected by a passphrase: remove it with `pepkeys key passwd --remove`, export again and import that file.');
    assert.equal(await romeo.getByTestId('my-fingerprint').count(), 0);
  });

  it('Romeo imports a key made by node:crypto and publishes it; the server holds exactly that key', async () => {
    // The form `pepkeys key export --secret` writes (formatBundle): header line, <pubkey/>, unencrypted PEM.
    romeoKey = createPubkey({ publicKey: romeoPair.publicKey, jid: ROMEO, begin: new Date(Date.now() - 60_000), end: new Date(Date.now() + 864e5) });
    const bundle = formatBundle([{ jid: ROMEO, fingerprint: pubkeyPrintId(romeoKey), status: 'current', pubkeyXml: serialize(buildPubkey(romeoKey)), pem: romeoPair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string }]);
    await romeo.getByLabel('Or import a key file').setInputFiles({ name: 'romeo.key', mimeType: 'text/plain', buffer: Buffer.from(bundle) });
    const fp = romeo.getByTestId('my-fingerprint');
    await fp.waitFor();
    assert.equal(await fp.textContent(), spaced(pubkeyPrintId(romeoKey)));
    await romeo.getByRole('button', { name: 'Publish' }).click();
    await romeo.getByTestId('publish-status').filter({ hasText: 'Published for everyone who sees your presence.' }).waitFor();

    const fetched = await juliet.fetch(ROMEO, { presenceWaitMs: 0 });
    assert.equal(fetched.keys.length, 1);
    // The key on Romeo's PEP node has the print Node computed for the key it made.
    assert.equal(pubkeyPrintId(fetched.keys[0]!.pubkey), pubkeyPrintId(romeoKey));
    // (A string: this file is type-checked with Node's lib, which has no indexedDB.)
    const extractable = await romeo.evaluate<boolean>(`new Promise((resolve, reject) => {
      const req = indexedDB.open('pepkeys-console:${ROMEO}');
      req.onerror = () => reject(req.error);
      req.onsuccess = () => {
        const get = req.result.transaction('own').objectStore('own').get('current');
        get.onsuccess = () => { resolve(get.result.pair.privateKey.extractable); req.result.close(); };
        get.onerror = () => reject(get.error);
      };
    })`);
    assert.equal(extractable, false);
  });

  it("Romeo attests Juliet's key from Contacts; the attestation verifies against his key with the Node SDK", async () => {
    const sent = new Promise<AttestationEvent>((resolve) => juliet.on('attestation', (ev) => ev.source === 'message' && resolve(ev)));
    const row = contact(romeo, JULIET).getByTestId('contact-key').filter({ hasText: spaced(pubkeyPrintId(julietKey)) });
    await row.waitFor();
    await row.getByRole('button', { name: 'Attest' }).click();
    await row.getByTestId('attested').waitFor();
    await romeo.screenshot({ path: join(await screenshotDir(), 'console-romeo-attested.png'), fullPage: true });

    const fromPep = (await juliet.fetchAttestations(ROMEO)).map((e) => e.attestation);
    assert.equal(fromPep.length, 1);
    const fromMessage = (await sent).attestation;
    for (const att of [fromPep[0]!, fromMessage]) {
      assert.equal(att.signerjid, ROMEO);
      assert.deepEqual(await verifyAttestation(att, { subject: julietKey, signer: verifierFromPubkey(romeoKey) }), { ok: true });
      // And it is not a signature that any key would pass: another key of Romeo's does not verify it.
      const other = createPubkey({ publicKey: generateKeyPairSync('ed25519').publicKey, jid: ROMEO, begin: new Date(romeoKey.begin), end: new Date(romeoKey.end) });
      assert.equal((await verifyAttestation(att, { subject: julietKey, signer: verifierFromPubkey(other) })).ok, false);
    }
  });
});
