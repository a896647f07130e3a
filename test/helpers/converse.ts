/**
 * Converse.js 14 (the npm package, unmodified) in Debian's Chromium, for interop tests over RFC 7395 WebSocket.
 *
 * A small static server on 127.0.0.1 (a secure context, which WebCrypto and OMEMO need) serves one page and
 * node_modules/converse.js/dist, where Converse 14 ships its OMEMO crypto: libomemo.esm.min.js, loaded on demand
 * beside converse.min.js, and curve25519_compiled.wasm. No libsignal-protocol.js is needed any more.
 * The test reaches Converse's API the documented way: a plugin (`converse.plugins.add`) keeps `_converse.api`.
 */
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, normalize, extname } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { BrowserContext, Page } from 'playwright-core';

const DIST = join(process.cwd(), 'node_modules', 'converse.js', 'dist');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.mp3': 'audio/mpeg',
  '.ogg': 'audio/ogg',
};

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Converse.js against pepkeys</title>
<link rel="stylesheet" href="/dist/converse.min.css">
<script type="module" src="/dist/converse.min.js"></script>
</head><body class="converse-fullscreen"><div id="conversejs-bg"></div></body></html>`;

export interface ConversePageServer {
  url: string;
  stop(): Promise<void>;
}

/** Serves the page at / and Converse's dist at /dist/ on a free 127.0.0.1 port. */
export async function serveConverse(): Promise<ConversePageServer> {
  const server: Server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
      return;
    }
    const rel = normalize(path.slice('/dist/'.length));
    if (!path.startsWith('/dist/') || rel.startsWith('..')) {
      res.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(join(DIST, rel));
      res.writeHead(200, { 'content-type': TYPES[extname(rel)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    stop: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

export interface ReceivedMessage {
  /** The text shown: the decrypted plaintext of an OMEMO message. */
  text: string;
  /** The stanza's <body>: for OMEMO, the fallback text for clients without it. */
  body: string;
  isEncrypted: boolean;
  /** urn:xmpp:omemo:2 or eu.siacs.conversations.axolotl for an OMEMO message. */
  namespace: string | null;
}

export interface ConverseLogin {
  websocketUrl: string;
  jid: string;
  password: string;
}

/** One Converse instance in its own browser context, logged in with auto_login over WebSocket. */
export class ConverseUser {
  readonly console: string[] = [];
  private constructor(readonly page: Page, readonly jid: string) {}

  static async open(context: BrowserContext, pageUrl: string, login: ConverseLogin): Promise<ConverseUser> {
    const page = await context.newPage();
    const user = new ConverseUser(page, login.jid);
    page.on('console', (m) => user.console.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => user.console.push(`pageerror: ${e.message}`));
    await page.goto(pageUrl);
    await page.waitForFunction(() => 'converse' in globalThis && typeof (globalThis as any).converse.initialize === 'function');
    await page.evaluate(async (l) => {
      const w = globalThis as any;
      w.omemoReady = false;
      w.converse.plugins.add('pepkeys-test', {
        initialize() {
          w.api = this._converse.api;
          w._converse = this._converse;
          w.api.listen.on('OMEMOInitialized', () => (w.omemoReady = true));
        },
      });
      await w.converse.initialize({
        websocket_url: l.websocketUrl,
        jid: l.jid,
        password: l.password,
        auto_login: true,
        discover_connection_methods: false,
        whitelisted_plugins: ['pepkeys-test'],
        view_mode: 'fullscreen',
        // Every new one-to-one chat with an OMEMO-capable contact starts encrypted.
        omemo_default: true,
        loglevel: 'info',
        play_sounds: false,
        show_desktop_notifications: false,
      });
    }, login);
    return user;
  }

  /** Waits until Converse reports the session connected and OMEMO initialized (device list and bundle published). */
  async ready(timeoutMs: number): Promise<void> {
    await this.page.waitForFunction(() => (globalThis as any).api?.connection?.connected?.() === true, undefined, { timeout: timeoutMs });
    await this.page.waitForFunction(() => (globalThis as any).omemoReady === true, undefined, { timeout: timeoutMs });
  }

  /** The presence status (online, away, offline…) Converse shows for a roster contact. */
  contactStatus(jid: string): Promise<string> {
    return this.page.evaluate(async (j) => {
      const c = await (globalThis as any).api.contacts.get(j);
      return c ? c.getStatus() : 'not-in-roster';
    }, jid);
  }

  async waitForContactOnline(jid: string, timeoutMs: number): Promise<void> {
    await this.until(`${jid} online`, timeoutMs, () => this.contactStatus(jid).then((s) => s === 'online'));
  }

  /** Polls an (async) check from Node: page.waitForFunction does not await a predicate's promise. */
  private async until<T>(what: string, timeoutMs: number, check: () => Promise<T | false>): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await check();
      if (v !== false) return v;
      if (Date.now() > deadline) throw new Error(`${this.jid}: timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Opens the chat with `jid` in the UI and waits until `text` is shown in it (what a user would read). */
  async showChat(jid: string, text: string, timeoutMs: number): Promise<void> {
    await this.page.evaluate((j) => (globalThis as any).api.chats.open(j, {}, true), jid);
    await this.page.getByText(text).first().waitFor({ state: 'visible', timeout: timeoutMs });
  }

  /** The SASL mechanism Strophe.js (Converse's XMPP library) logged in with. */
  saslMechanism(): Promise<string | null> {
    return this.page.evaluate(() => (globalThis as any).api.connection.get()?._sasl_mechanism?.mechname ?? null);
  }

  /** This instance's OMEMO device id. */
  deviceId(): Promise<string> {
    return this.page.evaluate(() => (globalThis as any)._converse.state.omemo_store.get('device_id'));
  }

  /**
   * Waits until `owner`'s OMEMO bundles for `deviceId` (legacy node and OMEMO 2 item) can be read from this
   * session. OMEMOInitialized fires when Converse has *sent* its publishes; a peer that fetches a bundle
   * before the server has stored it gets item-not-found and skips that device (seen on a loaded CI machine).
   */
  async waitForBundles(owner: string, deviceId: string, timeoutMs: number): Promise<void> {
    await this.until(`${owner}'s OMEMO bundles for device ${deviceId}`, timeoutMs, () =>
      this.page.evaluate(async ({ jid, device }) => {
        // No named inner functions here: the test runner's transform would wrap them in a helper the page lacks.
        const w = globalThis as any;
        for (const [node, id] of [[`eu.siacs.conversations.axolotl.bundles:${device}`, ''], ['urn:xmpp:omemo:2:bundles', String(device)]]) {
          let iq = w.converse.env.$iq({ type: 'get', to: jid }).c('pubsub', { xmlns: 'http://jabber.org/protocol/pubsub' }).c('items', { node });
          if (id) iq = iq.c('item', { id });
          const r = await w.api.sendIQ(iq).catch(() => undefined);
          if (!r || r.getElementsByTagName('item').length === 0) return false;
        }
        return true;
      }, { jid: owner, device: deviceId }),
    );
  }

  /** Opens the chat with `jid`, with OMEMO on, and sends `body` through Converse's normal send path. */
  async sendEncrypted(jid: string, body: string): Promise<{ omemoSupported: boolean; omemoActive: boolean }> {
    return this.page.evaluate(async ({ j, b }) => {
      const api = (globalThis as any).api;
      const chat = await api.chats.open(j, {}, true);
      // Converse decides OMEMO support from the contact's device list in PEP (fetched on open).
      for (let i = 0; i < 100 && !chat.get('omemo_supported'); i++) await new Promise((r) => setTimeout(r, 100));
      chat.save({ omemo_active: true });
      await chat.sendMessage({ body: b });
      return { omemoSupported: !!chat.get('omemo_supported'), omemoActive: !!chat.get('omemo_active') };
    }, { j: jid, b: body });
  }

  /** Waits for a message in the chat with `jid` whose (decrypted) body is `body`; returns its flags. */
  async waitForMessage(jid: string, body: string, timeoutMs: number): Promise<ReceivedMessage> {
    try {
      return await this.waitForMessageOnce(jid, body, timeoutMs);
    } catch (e) {
      const seen = await this.messages(jid);
      throw new Error(`${(e as Error).message}; the chat holds: ${JSON.stringify(seen)}`);
    }
  }

  /** The messages of the chat with `jid`, a few attributes each (for failure reports). */
  messages(jid: string): Promise<Record<string, unknown>[]> {
    return this.page.evaluate(async (j) => {
      const chat = await (globalThis as any).api.chats.get(j);
      return (chat?.messages?.models ?? []).map((m: any) =>
        Object.fromEntries(Object.entries(m.attributes).filter(([, v]) => typeof v !== 'object' || v === null)));
    }, jid);
  }

  private async waitForMessageOnce(jid: string, text: string, timeoutMs: number): Promise<ReceivedMessage> {
    return this.until(`a message from ${jid}`, timeoutMs, () => this.page.evaluate(async ({ j, t }) => {
      const chat = await (globalThis as any).api.chats.get(j);
      // A decrypted OMEMO message keeps the fallback in `body` and shows `plaintext`.
      const m = chat?.messages?.models.find((x: any) => x.get('plaintext') === t || x.get('body') === t);
      return m
        ? { text: t, body: m.get('body') as string, isEncrypted: !!m.get('is_encrypted'), namespace: (m.get('encryption_namespace') ?? null) as string | null }
        : (false as const);
    }, { j: jid, t: text }));
  }
}
