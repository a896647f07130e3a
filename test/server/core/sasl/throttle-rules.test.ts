// What counts toward the login throttles, over real TCP: only a wrong password or proof. Negotiation errors
// (a mechanism not offered, a malformed message, channel binding that does not fit, an abort, an authzid for
// someone else) and refusals during a lockout test no password and are not counted, so a client that tries
// what it supports in turn is never locked out by it. Every failure is logged with its reason.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../../helpers/server.ts';
import { captureLogger, type LogLine } from '../../../helpers/log-capture.ts';
import { RawClient, NS_HEADER } from '../../../helpers/raw-client.ts';
import { ScramClient } from '../../../helpers/scram-client.ts';
import type { Element } from '../../../../src/xml/index.ts';

const SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
const b64 = (s: string) => Buffer.from(s).toString('base64');
const LIMIT = 4;

describe('the login throttles count wrong passwords only', () => {
  let t: TestServer;
  let lines: LogLine[];
  const clients: RawClient[] = [];

  async function connect(): Promise<RawClient> {
    const c = await RawClient.connect(t.port);
    clients.push(c);
    c.send(NS_HEADER('capulet.lit'));
    await c.waitStanza((e) => e.local === 'features');
    return c;
  }

  const answer = (c: RawClient) => c.waitStanza((e) => e.ns === SASL && ['challenge', 'failure', 'success'].includes(e.local));

  /** Sends an <auth/> and, for a challenge, the given response; returns the final answer. */
  async function exchange(c: RawClient, mechanism: string, first: string, final?: (challenge: string) => string): Promise<Element> {
    c.send(`<auth xmlns='${SASL}' mechanism='${mechanism}'>${first}</auth>`);
    const a = await answer(c);
    if (a.local !== 'challenge' || !final) return a;
    c.send(`<response xmlns='${SASL}'>${b64(final(Buffer.from(a.text(), 'base64').toString()))}</response>`);
    return answer(c);
  }

  const failures = () => lines.filter((l) => l.msg.startsWith('authentication failed'));

  beforeEach(async () => {
    const cap = captureLogger();
    lines = cap.lines;
    t = await startTestServer({
      hosts: ['capulet.lit'],
      users: { 'juliet@capulet.lit': 'pw', 'nurse@capulet.lit': 'pw' },
      logger: cap.logger,
      config: { limits: { auth_failure_delay_ms: 0, max_failed_logins: LIMIT, max_auth_attempts: 10, max_connections_per_ip: 0 } },
    });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await t.stop();
  });

  it('does not count negotiation errors, and logs each with its mechanism, reason, account and address', async () => {
    const c = await connect();
    const cases: [string, string, ((ch: string) => string) | undefined, string, RegExp][] = [
      ['SCRAM-SHA-256-PLUS', b64(new ScramClient('sha256', 'juliet', 'pw').first()), undefined, 'invalid-mechanism', /not offered/],
      ['X-UNKNOWN', '=', undefined, 'invalid-mechanism', /not offered/],
      ['SCRAM-SHA-256', 'not base64!', undefined, 'incorrect-encoding', /not base64/],
      ['SCRAM-SHA-256', b64('garbage'), undefined, 'malformed-request', /bad GS2 header/],
      ['SCRAM-SHA-256', b64('n,,n=juliet'), undefined, 'malformed-request', /missing user or nonce/],
      ['SCRAM-SHA-256', b64('p=tls-exporter,,n=juliet,r=abc'), undefined, 'not-authorized', /without -PLUS/],
      ['SCRAM-SHA-256', b64('n,a=nurse@capulet.lit,n=juliet,r=abc'), undefined, 'invalid-authzid', /authzid/],
      ['PLAIN', b64('nurse@capulet.lit\0juliet\0pw'), undefined, 'invalid-authzid', /authzid/],
      ['PLAIN', b64('juliet-pw'), undefined, 'malformed-request', /PLAIN message/],
    ];
    for (const [mechanism, first, final, condition, reason] of cases) {
      const r = await exchange(c, mechanism, first, final);
      assert.equal(r.local, 'failure', mechanism);
      assert.equal(r.elements[0]?.local, condition, `${mechanism} ${first}`);
      const line = failures().at(-1)!;
      assert.match(String(line.reason), reason);
      assert.match(line.msg, reason, 'the message itself says why');
      assert.equal(line.mechanism, mechanism);
      assert.equal(line.ip, '127.0.0.1');
      assert.equal(line.counted, false);
    }
    assert.equal(failures().filter((l) => l.account === 'juliet@capulet.lit').length, 2, 'the account is named once known');
    // SCRAM exchanges broken after the challenge: nonce and gs2 header changed, no proof, an abort.
    const c2 = await connect();
    const scram = () => new ScramClient('sha256', 'juliet', 'pw');
    const s1 = scram();
    assert.equal((await exchange(c2, 'SCRAM-SHA-256', b64(s1.first()), (ch) => s1.final(ch).replace(/,r=[^,]+/, ',r=other'))).local, 'failure');
    assert.match(String(failures().at(-1)!.reason), /nonce mismatch/);
    const s2 = scram();
    assert.equal((await exchange(c2, 'SCRAM-SHA-256', b64(s2.first()), (ch) => s2.final(ch).replace(/^c=[^,]+/, `c=${b64('y,,')}`))).local, 'failure');
    assert.match(String(failures().at(-1)!.reason), /gs2 header changed/);
    const s3 = scram();
    assert.equal((await exchange(c2, 'SCRAM-SHA-256', b64(s3.first()), (ch) => s3.final(ch).replace(/,p=.*$/, ''))).local, 'failure');
    assert.match(String(failures().at(-1)!.reason), /missing proof/);
    c2.send(`<auth xmlns='${SASL}' mechanism='SCRAM-SHA-256'>${b64(scram().first())}</auth>`);
    await answer(c2);
    c2.send(`<abort xmlns='${SASL}'/>`);
    assert.equal((await answer(c2)).elements[0]?.local, 'aborted');
    assert.match(String(failures().at(-1)!.reason), /aborted/);
    c2.send(`<response xmlns='${SASL}'>=</response>`);
    assert.equal((await answer(c2)).elements[0]?.local, 'malformed-request');

    assert.ok(failures().length >= LIMIT * 3, 'far more refusals than the limit');
    assert.equal(t.server.authThrottle.size, 0, 'none of them counted');
    assert.equal((await exchange(await connect(), 'PLAIN', b64('\0juliet\0pw'))).local, 'success');
  });

  it('counts wrong passwords and proofs, for known and unknown accounts alike, and logs them as counted', async () => {
    const c = await connect();
    const wrong = new ScramClient('sha256', 'juliet', 'nope');
    assert.equal((await exchange(c, 'SCRAM-SHA-256', b64(wrong.first()), (ch) => wrong.final(ch))).local, 'failure');
    assert.equal((await exchange(c, 'PLAIN', b64('\0juliet\0nope'))).local, 'failure');
    assert.equal((await exchange(c, 'PLAIN', b64('\0tybalt\0nope'))).local, 'failure');
    const f = failures();
    assert.deepEqual(f.map((l) => [l.mechanism, l.account, l.reason, l.counted]), [
      ['SCRAM-SHA-256', 'juliet@capulet.lit', 'wrong password', true],
      ['PLAIN', 'juliet@capulet.lit', 'wrong password', true],
      ['PLAIN', 'tybalt@capulet.lit', 'no such account', true],
    ]);
    // The client is told the same for both (no account enumeration).
    assert.equal(t.server.authThrottle.unlock('juliet@capulet.lit'), 2);
    assert.equal(t.server.authThrottle.unlock('127.0.0.1'), 3);
  });

  it('does not count refusals during a lockout, so it ends with its window; unlock ends it at once', async () => {
    for (let i = 0; i < LIMIT; i++) assert.equal((await exchange(await connect(), 'PLAIN', b64('\0juliet\0nope'))).local, 'failure');
    // The address is locked out now, for every account, at <auth/> and before any mechanism runs.
    for (let i = 0; i < 3; i++) {
      const r = await exchange(await connect(), 'PLAIN', b64('\0nurse\0pw'));
      assert.equal(r.elements[0]?.local, 'temporary-auth-failure');
      const line = failures().at(-1)!;
      assert.match(String(line.reason), /address locked out/);
      assert.equal(line.counted, false);
    }
    // The retries added nothing: the lockout still ends one window after the LIMIT-th failure.
    assert.equal(t.server.authThrottle.unlock('127.0.0.1'), LIMIT);
    assert.equal((await exchange(await connect(), 'PLAIN', b64('\0nurse\0pw'))).local, 'success');
    // The account's own lockout, from an address that is not locked out (failures recorded from elsewhere).
    for (let i = 0; i < LIMIT; i++) t.server.authThrottle.fail(`192.0.2.${i}`, 'juliet@capulet.lit');
    const s = new ScramClient('sha256', 'juliet', 'pw');
    const r = await exchange(await connect(), 'SCRAM-SHA-256', b64(s.first()));
    assert.equal(r.elements[0]?.local, 'temporary-auth-failure');
    assert.deepEqual([failures().at(-1)!.account, failures().at(-1)!.counted], ['juliet@capulet.lit', false]);
    assert.match(String(failures().at(-1)!.reason), /locked out/);
    assert.equal(t.server.authThrottle.unlock('juliet@capulet.lit'), LIMIT);
    assert.equal((await exchange(await connect(), 'PLAIN', b64('\0juliet\0pw'))).local, 'success');
  });
});
