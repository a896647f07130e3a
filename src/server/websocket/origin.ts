// Which web pages may open the WebSocket endpoint (http.allowed_origins). A browser names the page's origin
// in every WebSocket handshake; without a check any site a user visits could script a session to this
// server from the user's machine (loopback is trusted as secure here). Non-browser clients send no Origin.
import type { HttpClient } from '../http/forwarded.ts';

/** Lowercased, without a default port or trailing slash, so configured and sent origins compare equal. */
export function normalizeOrigin(origin: string): string | undefined {
  try {
    const u = new URL(origin);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    return `${u.protocol}//${u.host}`;
  } catch {
    return undefined;
  }
}

export class OriginPolicy {
  private readonly any: boolean;
  private readonly allowed: Set<string>;

  constructor(allowedOrigins: readonly string[]) {
    this.any = allowedOrigins.includes('*');
    this.allowed = new Set(allowedOrigins.filter((o) => o !== '*').map((o) => normalizeOrigin(o) ?? o));
  }

  /** Same origin (the page came from this listener, or the host a proxy forwarded), or one configured. */
  allows(origin: string | undefined, client: HttpClient): boolean {
    if (origin === undefined || this.any) return true;
    const o = normalizeOrigin(origin);
    if (!o) return false;
    if (this.allowed.has(o)) return true;
    const host = client.host?.toLowerCase();
    if (!host) return false;
    // Same origin: the page's host is the one this request was sent to, with the scheme it used.
    const scheme = client.https ? 'https:' : 'http:';
    return o === normalizeOrigin(`${scheme}//${host}`);
  }
}
