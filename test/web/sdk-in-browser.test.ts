// The SDK's portable pieces in Chromium, bundled as the console bundles them: SCRAM on WebCrypto against the
// RFC 5802 / RFC 7677 vectors, and a WebCrypto Ed25519 key whose pubkey print and revocation signature the
// Node SDK accepts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { bundleForBrowser } from '../../scripts/build-console.mjs';
import { chromiumAvailable, launchChromium, type BrowserHandle } from '../helpers/browser.ts';
import { parseXml } from '../../src/xml/index.ts';
import { parseRevocation, verifyRevocation, verifierFromPubkey, pubkeyPrintId, checkPubkeyPrint, type Pubkey } from '../../src/keys/index.ts';

interface Probe {
  scram(hash: 'sha1' | 'sha256', nonce: string, serverFirst: string, serverFinal: string): Promise<{ initial: string; final: string; verified: boolean }>;
  keyRoundTrip(): Promise<{ extractable: boolean; pubkey: Pubkey; printId: string; revocation: string; outcome: { ok: boolean } }>;
}

/** Serves the probe bundle from http://127.0.0.1 (a secure context, so WebCrypto exists). */
export async function serveProbe(dir: string): Promise<{ url: string; server: Server }> {
  const page = `<!doctype html><meta charset="utf-8"><script type="module" src="probe.js"></script>`;
  const server = createServer((req, res) => {
    if (req.url === '/probe.js') {
      void readFile(join(dir, 'probe.js')).then((b) => res.writeHead(200, { 'content-type': 'text/javascript' }).end(b));
    } else res.writeHead(200, { 'content-type': 'text/html' }).end(page);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

export async function openProbe(browser: BrowserHandle, url: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto(url);
  await page.waitForFunction(() => (globalThis as unknown as { document: { title: string } }).document.title === 'probe ready');
  return page;
}

describe('SDK in the browser', { skip: !chromiumAvailable() && 'no Chromium' }, () => {
  let dir: string;
  let http: Server;
  let browser: BrowserHandle;
  let page: Page;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pepkeys-probe-'));
    await bundleForBrowser(join(import.meta.dirname, 'fixtures', 'sdk-probe.ts'), join(dir, 'probe.js'), { minify: false });
    const served = await serveProbe(dir);
    http = served.server;
    browser = await launchChromium();
    page = await openProbe(browser, served.url);
  });

  after(async () => {
    await browser?.close();
    http?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('computes the RFC 7677 SCRAM-SHA-256 example with WebCrypto and checks the server signature', async () => {
    const r = await page.evaluate(() => (globalThis as unknown as { probe: Probe }).probe.scram('sha256', 'rOprNGfwEbeRWgbNEkqO',
      'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096', 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='));
    assert.deepEqual(r, {
      initial: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
      final: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
      verified: true,
    });
  });

  it('computes the RFC 5802 SCRAM-SHA-1 example and refuses a wrong server signature', async () => {
    const r = await page.evaluate(() => (globalThis as unknown as { probe: Probe }).probe.scram('sha1', 'fyko+d2lbbFgONRv9qkxdawL',
      'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096', 'v=AAAApqV8S7suAoZWja4dJRkFsKQ='));
    assert.equal(r.final, 'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=');
    assert.equal(r.verified, false);
  });

  it('makes a non-extractable Ed25519 key whose print and signed revocation the Node SDK accepts', async () => {
    const r = await page.evaluate(() => (globalThis as unknown as { probe: Probe }).probe.keyRoundTrip());
    assert.equal(r.extractable, false);
    assert.deepEqual(r.outcome, { ok: true });
    assert.equal(checkPubkeyPrint(r.pubkey), true);
    assert.equal(pubkeyPrintId(r.pubkey), r.printId);
    const rev = parseRevocation(parseXml(r.revocation));
    assert.deepEqual(await verifyRevocation(rev, { signer: verifierFromPubkey(r.pubkey), revoked: r.pubkey, now: new Date('2026-06-01T00:00:00Z') }), { ok: true });
  });
});
