// Serves the browser key console (built by `npm run build` into dist/console, see docs/web.md) at / on the
// HTTP listener, next to the WebSocket endpoint it logs in through. Files are read once at start: the build
// is a handful of static files, and a fixed list leaves no path for a request to walk out of the directory.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ServerResponse } from 'node:http';
import type { HttpListener } from './listener.ts';

/** dist/console of this package, from src/server/http (tsx) and from dist/server/http (built) alike. */
export const CONSOLE_DIR = fileURLToPath(new URL('../../../dist/console/', import.meta.url));

const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'console.js': 'text/javascript; charset=utf-8',
  'console.js.map': 'application/json',
  'style.css': 'text/css; charset=utf-8',
};

// The page talks only to its own origin (the WebSocket included); the QR code is a data: image.
const HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

/** Registers the console's routes; returns false (and registers nothing) when the console was not built. */
export function serveConsole(http: HttpListener, dir: string = CONSOLE_DIR): boolean {
  if (!existsSync(`${dir}/index.html`)) return false;
  for (const [name, type] of Object.entries(FILES)) {
    if (!existsSync(`${dir}/${name}`)) continue;
    const body = readFileSync(`${dir}/${name}`);
    const send = (res: ServerResponse) => {
      res.writeHead(200, { ...HEADERS, 'content-type': type, 'content-length': body.length });
      res.end(res.req.method === 'HEAD' ? undefined : body);
    };
    http.route('GET', `/${name}`, (_req, res) => send(res));
    if (name === 'index.html') http.route('GET', '/', (_req, res) => send(res));
  }
  return true;
}
