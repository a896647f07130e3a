// The key console in Chromium against a server started as `pepkeys serve` starts it (startServer with an
// HTTP listener serving the console at / and RFC 7395 at /xmpp-websocket): Juliet publishes her key for the
// roster group Friends, Romeo (in Friends) sees it arrive live and is alerted when she rotates, and the Nurse
// (her contact, not in Friends) never sees it; Romeo verifies a key from a photo of the QR code on Juliet's
// screen. Screenshots go to test-artifacts/screenshots.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { XmppServer } from '../../src/server/index.ts';
import { startConsoleServer, type ConsoleServer } from '../helpers/console-server.ts';
import { chromiumAvailable, launchChromium, screenshotDir, type BrowserHandle } from '../helpers/browser.ts';

const JULIET = 'juliet@localhost';
const ROMEO = 'romeo@localhost';
const NURSE = 'nurse@localhost';
const PASSWORD = 'wherefore art thou';

const contact = (page: Page, jid: string) => page.locator(`[data-testid=contact][data-jid="${jid}"]`);

async function login(page: Page, url: string, jid: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel('Address').fill(jid);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByTestId('whoami').filter({ hasText: jid }).waitFor();
}

describe('browser key console', { skip: !chromiumAvailable() && 'no Chromium' }, () => {
  let cs: ConsoleServer | undefined;
  let server: XmppServer;
  let url: string;
  let browser: BrowserHandle;
  let juliet: Page;
  let romeo: Page;
  let nurse: Page;
  let shots: string;
  let firstPrint: string;

  before(async () => {
    cs = await startConsoleServer([JULIET, ROMEO, NURSE], PASSWORD);
    server = cs.server;
    url = cs.url;
    // Juliet files Romeo under Friends and the Nurse under Household; all mutually subscribed.
    const both = async (a: string, b: string, aGroup: string, bGroup: string) => {
      await server.storage.roster.putItem(a, { jid: b, subscription: 'both', groups: [aGroup] });
      await server.storage.roster.putItem(b, { jid: a, subscription: 'both', groups: [bGroup] });
    };
    await both(JULIET, ROMEO, 'Friends', 'Friends');
    await both(JULIET, NURSE, 'Household', 'Household');
    shots = await screenshotDir();
    browser = await launchChromium();
    juliet = await (await browser.newContext({ viewport: { width: 1000, height: 900 } })).newPage();
    romeo = await (await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true })).newPage();
    nurse = await (await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true })).newPage();
  });

  after(async () => {
    await browser?.close();
    await cs?.stop();
  });

  it('shows a login error as one sentence saying what to do', async () => {
    await juliet.goto(url);
    await juliet.getByLabel('Address').fill(JULIET);
    await juliet.getByLabel('Password').fill('not the password');
    await juliet.getByRole('button', { name: 'Log in' }).click();
    const error = juliet.getByRole('alert');
    await error.waitFor();
    assert.equal(await error.textContent(), 'The address or password is wrong: check both and log in again.');
  });

  it('Juliet generates a key and publishes it for Friends; Romeo sees it arrive live', async () => {
    await login(juliet, url, JULIET);
    await login(romeo, url, ROMEO);
    await login(nurse, url, NURSE);
    // Romeo has no key of Juliet yet.
    await contact(romeo, JULIET).getByTestId('no-key').waitFor();

    await juliet.getByRole('button', { name: 'Generate key' }).click();
    const fp = juliet.getByTestId('my-fingerprint');
    await fp.waitFor();
    firstPrint = (await fp.textContent())!;
    assert.match(firstPrint, /^([0-9A-F]{4} ){15}[0-9A-F]{4}$/);
    await juliet.getByLabel('Contacts in these roster groups').check();
    await juliet.getByRole('checkbox', { name: 'Friends' }).check();
    assert.equal(await juliet.getByRole('checkbox', { name: 'Household' }).isChecked(), false);
    await juliet.getByRole('button', { name: 'Publish' }).click();
    await juliet.getByTestId('publish-status').filter({ hasText: 'Published for contacts in Friends.' }).waitFor();
    await juliet.screenshot({ path: join(shots, 'console-juliet-published.png'), fullPage: true });

    // Romeo's page was not reloaded: the key came in a PEP notification.
    const key = contact(romeo, JULIET).getByTestId('contact-key');
    await key.filter({ hasText: firstPrint }).waitFor();
    assert.match((await key.textContent())!, /Unverified/);
    await romeo.screenshot({ path: join(shots, 'console-romeo-key-arrived.png'), fullPage: true });
  });

  it('the Nurse, not in Friends, never sees the key', async () => {
    const c = contact(nurse, JULIET);
    await c.waitFor();
    assert.equal(await c.getByTestId('contact-key').count(), 0);
    await nurse.getByRole('button', { name: "Reload contacts' keys" }).click();
    await nurse.getByRole('button', { name: "Reload contacts' keys" }).and(nurse.locator(':enabled')).waitFor();
    assert.equal(await c.getByTestId('contact-key').count(), 0);
    await c.getByTestId('no-key').waitFor();
    assert.ok(!(await nurse.content()).includes(firstPrint));
    await nurse.screenshot({ path: join(shots, 'console-nurse-no-key.png'), fullPage: true });
  });

  it("Romeo verifies Juliet's key by photographing the QR code on her screen", async () => {
    // What Juliet's screen shows, as a photo of it: the QR code's pixels, decoded by Romeo's page (jsQR).
    const photo = await juliet.locator('img.qr').first().screenshot();
    const key = contact(romeo, JULIET).getByTestId('contact-key').filter({ hasText: firstPrint });
    await key.getByRole('button', { name: 'Verify' }).click();
    await key.getByLabel('Or a photo of their QR code').setInputFiles({ name: 'juliet-screen.png', mimeType: 'image/png', buffer: photo });
    await contact(romeo, JULIET).getByTestId('contact-key').filter({ hasText: firstPrint }).filter({ hasText: 'Verified' }).waitFor();
  });

  it('Juliet rotates: Romeo gets the alert, the old key shows revoked, and he verifies the new one', async () => {
    await juliet.getByRole('button', { name: 'Rotate' }).click();
    const fp = juliet.getByTestId('my-fingerprint');
    await fp.filter({ hasNotText: firstPrint }).waitFor();
    const newPrint = (await fp.textContent())!;
    await juliet.getByTestId('publish-status').filter({ hasText: 'Published for contacts in Friends.' }).waitFor();

    const alert = romeo.getByTestId('key-alert');
    await alert.filter({ hasText: `${JULIET} has a new key.` }).waitFor();
    const keys = contact(romeo, JULIET).getByTestId('contact-key');
    await keys.filter({ hasText: newPrint }).waitFor();
    await keys.filter({ hasText: firstPrint }).filter({ hasText: 'Revoked' }).waitFor();
    await romeo.screenshot({ path: join(shots, 'console-romeo-key-changed.png'), fullPage: true });

    const fresh = keys.filter({ hasText: newPrint });
    await fresh.getByRole('button', { name: 'Verify' }).click();
    await fresh.getByLabel(`Fingerprint ${JULIET} reads to you`).fill(newPrint.toLowerCase());
    await fresh.getByRole('button', { name: 'Compare' }).click();
    await keys.filter({ hasText: newPrint }).filter({ hasText: 'Verified' }).waitFor();
    // The Nurse still sees nothing, after the rotation too.
    assert.equal(await contact(nurse, JULIET).getByTestId('contact-key').count(), 0);
    assert.ok(!(await nurse.content()).includes(newPrint));
  });
});
