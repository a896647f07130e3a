// Issue 13, "authentication that real clients get through on the first try": every client library we can run
// (slixmpp 1.8.3, @xmpp/client, our own client) × TLS 1.2 and 1.3 × each mechanism it offers, over STARTTLS
// against a real server. Each cell states what the client sent and whether it got in; the server must count
// no failure for any of them (no throttle entry, no counted log line), and log every refusal with its reason.
//
// One kind of cell cannot log in on the first try, by design, and is asserted as such: slixmpp restricted to
// SCRAM-SHA-256 or SCRAM-SHA-1 sends the 'y' flag ("I could bind, but I think you cannot") while we offer
// -PLUS: RFC 5802 §6 requires the refusal (downgrade protection). Left to choose, slixmpp picks -PLUS.
// slixmpp 1.8.3 knows only tls-unique, which TLS 1.3 does not define (RFC 8446 §C.5); it used to get in on
// TLS 1.3 with PLAIN after four refusals. The server now accepts tls-unique there without offering it (the
// client's Finished, as OpenSSL computes it), and the binding is checked: first try.
// The per-cell results are printed as test diagnostics (the table in the issue's closing note).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { client } from '@xmpp/client';
import type { Element as XjsElement } from '@xmpp/xml';
import '../helpers/xmpp-js.ts';
import { startTestServerAt, type TlsVersion } from '../helpers/tls-version.ts';
import { captureLogger, type LogLine } from '../helpers/log-capture.ts';
import { RawClient } from '../helpers/raw-client.ts';
import type { TestServer } from '../helpers/server.ts';
import { Connection } from '../../src/client/connection.ts';
import { slixmppLogin } from './slixmpp.ts';

const JID = 'juliet@localhost';
const PASSWORD = 'r0meo';

interface Expectation {
  /** What slixmpp sends, in order: "MECHANISM FLAG" (FLAG: the SCRAM GS2 channel-binding flag). */
  auths: string[];
  session: boolean;
  /** The reason the server logs for each refusal, in order. */
  reasons: RegExp[];
}

const DOWNGRADE = /channel binding downgrade detected/;

const SLIXMPP: Record<TlsVersion, Record<string, Expectation>> = {
  'TLSv1.2': {
    '': { auths: ['SCRAM-SHA-256-PLUS p=tls-unique'], session: true, reasons: [] },
    'SCRAM-SHA-256-PLUS': { auths: ['SCRAM-SHA-256-PLUS p=tls-unique'], session: true, reasons: [] },
    'SCRAM-SHA-1-PLUS': { auths: ['SCRAM-SHA-1-PLUS p=tls-unique'], session: true, reasons: [] },
    'SCRAM-SHA-256': { auths: ['SCRAM-SHA-256 y'], session: false, reasons: [DOWNGRADE] },
    'SCRAM-SHA-1': { auths: ['SCRAM-SHA-1 y'], session: false, reasons: [DOWNGRADE] },
    PLAIN: { auths: ['PLAIN null'], session: true, reasons: [] },
  },
  // tls-unique is not offered on TLS 1.3 but accepted (src/server/core/sasl/channel-binding.ts): slixmpp
  // binds with its own Finished message and gets in on the first try.
  'TLSv1.3': {
    '': { auths: ['SCRAM-SHA-256-PLUS p=tls-unique'], session: true, reasons: [] },
    'SCRAM-SHA-256-PLUS': { auths: ['SCRAM-SHA-256-PLUS p=tls-unique'], session: true, reasons: [] },
    'SCRAM-SHA-1-PLUS': { auths: ['SCRAM-SHA-1-PLUS p=tls-unique'], session: true, reasons: [] },
    'SCRAM-SHA-256': { auths: ['SCRAM-SHA-256 y'], session: false, reasons: [DOWNGRADE] },
    'SCRAM-SHA-1': { auths: ['SCRAM-SHA-1 y'], session: false, reasons: [DOWNGRADE] },
    PLAIN: { auths: ['PLAIN null'], session: true, reasons: [] },
  },
};

/** @xmpp/client logging in with one mechanism; returns how many SASL <failure/> it received. */
async function xmppJsLogin(port: number, mechanism: string): Promise<{ failures: number; offered: string[] }> {
  let offered: string[] = [];
  const xmpp = client({
    service: `xmpp://127.0.0.1:${port}`,
    domain: 'localhost',
    resource: 'matrix',
    timeout: 15_000,
    credentials: async (authenticate: (c: object, m: string) => Promise<void>, mechanisms: string[]) => {
      offered = mechanisms;
      await authenticate({ username: 'juliet', password: PASSWORD }, mechanism);
    },
  });
  xmpp.reconnect.stop();
  xmpp.on('error', () => {});
  let failures = 0;
  xmpp.on('nonza', (el: XjsElement) => {
    if (el.name === 'failure' && el.attrs.xmlns === 'urn:ietf:params:xml:ns:xmpp-sasl') failures++;
  });
  try {
    await xmpp.start();
  } finally {
    await xmpp.stop().catch(() => {});
  }
  return { failures, offered };
}

const failedLines = (lines: LogLine[], from: number) => lines.slice(from).filter((l) => l.msg.startsWith('authentication failed'));

for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
  describe(`login matrix over ${version}`, () => {
    let t: TestServer;
    const { logger, lines } = captureLogger();

    before(async () => {
      t = await startTestServerAt(version, { insecure: false, users: { [JID]: PASSWORD }, logger, config: { limits: { max_connections_per_ip: 0 } } });
    });
    after(() => t.stop());

    /** Runs one cell, then checks the server counted nothing and logged each refusal with its reason. */
    async function cell(diagnostic: (msg: string) => void, lib: string, mechanism: string, run: () => Promise<{ refusals: number; result: string }>, reasons: RegExp[] = []) {
      const mark = lines.length;
      const { refusals, result } = await run();
      const failed = failedLines(lines, mark);
      assert.equal(failed.length, reasons.length, failed.map((l) => l.msg).join('\n'));
      failed.forEach((l, i) => {
        assert.match(String(l.reason), reasons[i]!);
        assert.equal(l.counted, false, l.msg);
        assert.equal(l.ip, '127.0.0.1');
        assert.equal(typeof l.mechanism, 'string');
      });
      assert.equal(t.server.authThrottle.size, 0, 'no failure is counted');
      diagnostic(`| ${lib} | ${version} | ${mechanism} | ${result} | ${refusals} | 0 |`);
    }

    it(`is spoken over ${version}`, async () => {
      const c = await RawClient.connectTls(t.tlsPort);
      assert.equal(c.tlsSocket!.getProtocol(), version);
      c.destroy();
    });

    for (const [mechanism, expected] of Object.entries(SLIXMPP[version])) {
      const name = mechanism || '(its own choice)';
      it(`slixmpp 1.8.3, ${name}: ${expected.auths.join(' → ')}${expected.session ? '' : ', refused'}`, async (ctx) => {
        await cell(ctx.diagnostic.bind(ctx), 'slixmpp 1.8.3', name, async () => {
          const r = await slixmppLogin(t.port, JID, PASSWORD, mechanism);
          assert.equal(r.error, null);
          assert.deepEqual(r.auths.map((a) => `${a.mechanism} ${a.cb}`), expected.auths);
          assert.equal(r.session, expected.session);
          assert.equal(r.failures.length, expected.reasons.length);
          if (r.session) assert.equal(r.tls, version);
          const last = r.auths.at(-1)!;
          return { refusals: r.failures.length, result: r.session ? `in with ${last.mechanism}${last.cb?.startsWith('p=') ? ` (${last.cb.slice(2)})` : ''}` : "refused ('y' while -PLUS offered)" };
        }, expected.reasons);
      });
    }

    for (const mechanism of ['SCRAM-SHA-1', 'PLAIN']) {
      it(`@xmpp/client, ${mechanism}: in on the first try`, async (ctx) => {
        await cell(ctx.diagnostic.bind(ctx), '@xmpp/client 0.14', mechanism, async () => {
          const r = await xmppJsLogin(t.port, mechanism);
          // What it could pick from: its own mechanisms among those offered.
          assert.deepEqual(r.offered, ['SCRAM-SHA-1', 'PLAIN']);
          assert.equal(r.failures, 0);
          return { refusals: 0, result: `in with ${mechanism}` };
        });
      });
    }

    for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN']) {
      it(`pepkeys client, ${mechanism}: in on the first try`, async (ctx) => {
        await cell(ctx.diagnostic.bind(ctx), 'pepkeys client', mechanism, async () => {
          // It tries one mechanism and throws on a failure: getting in means getting in on the first try.
          const c = await Connection.open({ jid: `${JID}/matrix`, password: PASSWORD, host: '127.0.0.1', port: t.port, tls: { rejectUnauthorized: false }, mechanisms: [mechanism] });
          await c.close();
          return { refusals: 0, result: `in with ${mechanism}` };
        });
      });
    }
  });
}
