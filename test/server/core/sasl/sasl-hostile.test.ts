// Issue 19, findings 7 and 13 and the per-account lockout, over real TCP: what a stranger can learn or do
// with SASL alone. Account enumeration through the SCRAM salts, <auth/>+<abort/> probes that cost nothing,
// an authzid naming another account, and a lockout that was never applied.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../../../helpers/server.ts';
import { RawClient, NS_HEADER } from '../../../helpers/raw-client.ts';
import { ScramClient } from '../../../helpers/scram-client.ts';
import { loadSaslSecret } from '../../../../src/server/core/sasl/secret.ts';
import type { Element } from '../../../../src/xml/index.ts';

const SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
const b64 = (s: string) => Buffer.from(s).toString('base64');
const condition = (el: Element) => el.elements[0]?.local;

async function open(t: TestServer): Promise<RawClient> {
  const c = await RawClient.connect(t.port);
  c.send(NS_HEADER('capulet.lit'));
  await c.waitStanza((e) => e.local === 'features');
  return c;
}

/** The salt of a SCRAM mechanism's first challenge for `user`. */
async function saltOf(c: RawClient, mechanism: 'SCRAM-SHA-1' | 'SCRAM-SHA-256', user: string): Promise<string> {
  const client = new ScramClient(mechanism === 'SCRAM-SHA-1' ? 'sha1' : 'sha256', user, 'x');
  c.send(`<auth xmlns='${SASL}' mechanism='${mechanism}'>${b64(client.first())}</auth>`);
  const ch = await c.waitStanza((e) => e.local === 'challenge' || e.local === 'failure');
  assert.equal(ch.local, 'challenge', ch.toString());
  const s = /(?:^|,)s=([^,]+)/.exec(Buffer.from(ch.text(), 'base64').toString())![1]!;
  c.send(`<abort xmlns='${SASL}'/>`);
  await c.waitStanza((e) => e.local === 'failure');
  return s;
}

async function plain(c: RawClient, authzid: string, user: string, password: string): Promise<Element> {
  c.send(`<auth xmlns='${SASL}' mechanism='PLAIN'>${b64(`${authzid}\0${user}\0${password}`)}</auth>`);
  return c.waitStanza((e) => e.local === 'success' || e.local === 'failure');
}

describe('SASL against a stranger', () => {
  let t: TestServer;
  const clients: RawClient[] = [];
  const connect = async () => {
    const c = await open(t);
    clients.push(c);
    return c;
  };

  // A server per test: each starts with an empty throttle.
  beforeEach(async () => {
    t = await startTestServer({
      hosts: ['capulet.lit', 'montague.lit'],
      users: { 'juliet@capulet.lit': 'pw', 'nurse@capulet.lit': 'pw', 'juliet@montague.lit': 'other' },
      config: { limits: { auth_failure_delay_ms: 0, max_failed_logins: 6, max_auth_attempts: 10, max_connections_per_ip: 0 } },
    });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await t.stop();
  });

  it('accepts an authzid only when it is exactly the authenticated bare JID (RFC 6120 §6.4.6)', async () => {
    for (const authzid of ['juliet@montague.lit', 'juliet@capulet.lit/evil', 'nurse@capulet.lit', 'juliet@']) {
      const r = await plain(await connect(), authzid, 'juliet', 'pw');
      assert.equal(r.local, 'failure', authzid);
      assert.equal(condition(r), 'invalid-authzid', authzid);
    }
    // The GS2 a= of SCRAM, for another domain.
    const c = await connect();
    const client = new ScramClient('sha256', 'juliet', 'pw');
    c.send(`<auth xmlns='${SASL}' mechanism='SCRAM-SHA-256'>${b64(client.first().replace(/^n,,/, 'n,a=juliet@montague.lit,'))}</auth>`);
    const f = await c.waitStanza((e) => e.local === 'failure' || e.local === 'challenge');
    assert.equal(condition(f), 'invalid-authzid');
    // Exactly the bare JID (any case the JID rules fold) and an empty one are fine.
    assert.equal((await plain(await connect(), 'Juliet@Capulet.lit', 'juliet', 'pw')).local, 'success');
    assert.equal((await plain(await connect(), '', 'juliet', 'pw')).local, 'success');
  });

  it('gives every name two different SCRAM salts, whether the account exists or not', async () => {
    // Each probe ends in an abort, which counts as a failure: a new stream and server for every name.
    for (const user of ['juliet', 'tybalt']) {
      const c = await connect();
      const sha1 = await saltOf(c, 'SCRAM-SHA-1', user);
      const sha256 = await saltOf(c, 'SCRAM-SHA-256', user);
      assert.notEqual(sha1, sha256, user);
      // And the same one again: a fake salt is as stable as a real one.
      assert.equal(await saltOf(c, 'SCRAM-SHA-1', user), sha1, user);
    }
  });

  it('does not count aborted exchanges toward the throttle (they test no password); the stream limit still ends a probe', async () => {
    const c = await connect();
    const answers: (string | undefined)[] = [];
    for (let i = 0; i < 10; i++) {
      c.send(`<auth xmlns='${SASL}' mechanism='SCRAM-SHA-256'>${b64(new ScramClient('sha256', `probe${i}`, 'x').first())}</auth>`);
      const r = await c.waitStanza((e) => e.local === 'challenge' || e.local === 'failure');
      answers.push(r.local === 'challenge' ? 'challenge' : condition(r));
      c.send(`<abort xmlns='${SASL}'/>`);
      assert.equal(condition(await c.waitStanza((e) => e.local === 'failure')), 'aborted');
    }
    // Past max_failed_logins (6) aborts, the address is still not locked out...
    assert.deepEqual(answers, Array(10).fill('challenge'));
    assert.equal(t.server.authThrottle.size, 0);
    // ...but max_auth_attempts (10) failures of any kind close the stream (RFC 6120 §6.4.5).
    await c.waitText(/policy-violation/);
    assert.equal((await plain(await connect(), '', 'juliet', 'pw')).local, 'success');
  });

  it('locks an account out after repeated failures on it, from any address, even with the right password', async () => {
    // Failures on juliet@capulet.lit from other addresses (a distributed guess).
    for (let i = 0; i < 6; i++) t.server.authThrottle.fail(`192.0.2.${i}`, 'juliet@capulet.lit');
    const locked = await plain(await connect(), '', 'juliet', 'pw');
    assert.equal(condition(locked), 'temporary-auth-failure');
    const scram = await connect();
    scram.send(`<auth xmlns='${SASL}' mechanism='SCRAM-SHA-256'>${b64(new ScramClient('sha256', 'juliet', 'pw').first())}</auth>`);
    assert.equal(condition(await scram.waitStanza((e) => e.local === 'failure' || e.local === 'challenge')), 'temporary-auth-failure');
    // Another account on the same address is not affected.
    assert.equal((await plain(await connect(), '', 'nurse', 'pw')).local, 'success');
  });
});

describe('the fake-salt secret', () => {
  it('is made once in the data directory, owner-only, and read back unchanged', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pepkeys-secret-'));
    try {
      const a = loadSaslSecret(join(dir, 'data'));
      const b = loadSaslSecret(join(dir, 'data'));
      assert.equal(a.length, 32);
      assert.deepEqual(a, b);
      assert.equal(statSync(join(dir, 'data', 'sasl-secret')).mode & 0o777, 0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
