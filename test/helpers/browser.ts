/**
 * Debian's Chromium driven by playwright-core, for the browser tests (key console, Converse.js).
 *
 * No browser download is possible here, so playwright-core gets `executablePath`. The flags keep Chromium off
 * the network it cannot reach (background networking, component updates, sync) and let it run as root in CI.
 * Pages must be served from http://127.0.0.1 (a secure context): WebCrypto is undefined on about:blank.
 */
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

export const CHROMIUM_PATH = process.env.PEPKEYS_CHROMIUM ?? '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

export interface BrowserHandle {
  browser: Browser;
  /** A fresh, isolated context (its own storage, IndexedDB and cookies): one per simulated user. */
  newContext(options?: Parameters<Browser['newContext']>[0]): Promise<BrowserContext>;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<BrowserHandle> {
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  const contexts: BrowserContext[] = [];
  return {
    browser,
    async newContext(options) {
      const context = await browser.newContext(options);
      contexts.push(context);
      return context;
    },
    async close() {
      for (const context of contexts) await context.close().catch(() => {});
      await browser.close();
    },
  };
}

/** Where browser tests keep their screenshots: test-artifacts/screenshots (ignored by git), or $PEPKEYS_ARTIFACTS. */
export async function screenshotDir(): Promise<string> {
  const dir = process.env.PEPKEYS_ARTIFACTS ?? join(process.cwd(), 'test-artifacts', 'screenshots');
  await mkdir(dir, { recursive: true });
  return dir;
}

export async function tempProfileDir(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'pepkeys-chromium-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
