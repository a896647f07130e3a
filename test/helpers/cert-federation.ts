// Two federating pepkeys servers (capulet.lit, montague.lit) for certificate tests: each its own
// certificate (a test CA's, or self-signed), its own [s2s] table, a logger whose lines the test reads
// (authentication decisions are logged), static routes to each other's s2s port.
import { rawSessions, startTestServer, type TestServer } from './server.ts';
import { RawClient } from './raw-client.ts';
import { startProsody, type ProsodyServer } from './prosody.ts';
import { captureLogger, type LogLine } from './log-capture.ts';
import type { TlsCredentials } from '../../src/server/core/tls-credentials.ts';

export interface CertServer extends TestServer {
  log: LogLine[];
}

export interface CertSide {
  tls: TlsCredentials;
  s2s?: Record<string, unknown>;
}

/** `domain`: the domain served, or several. */
export async function startCertServer(domain: string | string[], users: Record<string, string>, side: CertSide): Promise<CertServer> {
  const { logger, lines } = captureLogger('debug');
  const hosts = typeof domain === 'string' ? [domain] : domain;
  const s = await startTestServer({ hosts, users, tls: side.tls, logger, config: { s2s: { listen: ['127.0.0.1:0'], ...side.s2s } } });
  return Object.assign(s, { log: lines });
}

export async function startCertPair(cap: CertSide, mon: CertSide): Promise<{ cap: CertServer; mon: CertServer; stop(): Promise<void> }> {
  const c = await startCertServer('capulet.lit', { 'juliet@capulet.lit': 'pw' }, cap);
  const m = await startCertServer('montague.lit', { 'romeo@montague.lit': 'pw' }, mon);
  c.server.s2s!.routes['montague.lit'] = `127.0.0.1:${m.s2sPort}`;
  m.server.s2s!.routes['capulet.lit'] = `127.0.0.1:${c.s2sPort}`;
  return { cap: c, mon: m, stop: async () => void (await Promise.all([c.stop(), m.stop()])) };
}

/** Log lines with this message whose fields include all of `fields`. */
export function logged(log: LogLine[], msg: string, fields: Record<string, unknown> = {}): LogLine[] {
  return log.filter((l) => l.msg === msg && Object.entries(fields).every(([k, v]) => l[k] === v));
}

/**
 * pepkeys hosting capulet.lit (Juliet logged in) federated with a real Prosody hosting montague.lit (Romeo
 * logged in), static routes both ways; `stop` ends both servers and sessions.
 */
export async function startWithProsody(capSide: CertSide, prosody: { secureAuth?: boolean; tls?: { cert: string; key: string; cafile?: string } }) {
  const cap = await startCertServer('capulet.lit', { 'juliet@capulet.lit': 'pw' }, capSide);
  const users = rawSessions(() => cap);
  let p: ProsodyServer | undefined;
  let romeo: RawClient | undefined;
  const stop = async () => {
    romeo?.destroy();
    users.destroyAll();
    await cap.stop();
    await p?.stop();
  };
  try {
    p = await startProsody({
      hosts: ['montague.lit'],
      users: { 'romeo@montague.lit': 'romeo-pw' },
      s2s: { routes: { 'capulet.lit': `127.0.0.1:${cap.s2sPort}` }, secureAuth: prosody.secureAuth },
      tls: prosody.tls,
    });
    cap.server.s2s!.routes['montague.lit'] = `127.0.0.1:${p.s2sPort}`;
    const juliet = await users.login('juliet', 'balcony', 'pw', 'capulet.lit');
    romeo = await RawClient.connect(p.port);
    await romeo.login('romeo@montague.lit', 'romeo-pw', 'orchard');
    return { cap, p, juliet, romeo, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
