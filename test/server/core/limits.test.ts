// Limits: connections per IP, sessions per account, stanza flood, cross-connection login throttling,
// module option validation and TLS reload — each with a sentinel session that must keep working.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { connect as tlsConnect } from 'node:tls';
import { startTestServer } from '../../helpers/server.ts';
import { RawClient, NS_HEADER } from '../../helpers/raw-client.ts';
import { AuthThrottle } from '../../../src/server/core/limits/auth-throttle.ts';
import { TokenBucket } from '../../../src/server/core/limits/token-bucket.ts';
import { XmppServer } from '../../../src/server/core/server.ts';
import { parseConfig } from '../../../src/server/config.ts';
import { defaultModules } from '../../../src/server/modules/index.ts';
import { createMemoryStorage } from '../../../src/storage/memory/index.ts';
import { generateSelfSigned } from '../../../src/server/core/tls-credentials.ts';

async function ping(c: RawClient): Promise<string | undefined> {
  return (await c.iq(`<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`)).attrs.type;
}

describe('limits', () => {
  it('refuses connections beyond the per-IP limit with policy-violation', async () => {
    const t = await startTestServer({ users: { 'a@localhost': 'pw' }, config: { limits: { max_connections_per_ip: 3 } } });
    try {
      const open = [await RawClient.connect(t.port), await RawClient.connect(t.port), await RawClient.connect(t.port)];
      const extra = await RawClient.connect(t.port);
      await extra.waitText(/<policy-violation xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/);
      await extra.waitClosed();
      open[0]!.destroy();
      await open[0]!.closed;
      await new Promise((r) => setTimeout(r, 50));
      const again = await RawClient.connect(t.port);
      assert.ok(await again.login('a@localhost', 'pw', 'x'));
      for (const c of [...open, again]) c.destroy();
    } finally {
      await t.stop();
    }
  });

  it('refuses binding more resources than the per-account limit with resource-constraint', async () => {
    const t = await startTestServer({ users: { 'a@localhost': 'pw' }, config: { limits: { max_sessions_per_account: 2 } } });
    try {
      const a = await RawClient.connect(t.port);
      await a.login('a@localhost', 'pw', 'one');
      const b = await RawClient.connect(t.port);
      await b.login('a@localhost', 'pw', 'two');
      const c = await RawClient.connect(t.port);
      await assert.rejects(c.login('a@localhost', 'pw', 'three'), /resource-constraint|Cannot read/);
      assert.match(c.text, /<resource-constraint xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"\/>/);
      // Rebinding an existing resource replaces it and is allowed.
      const d = await RawClient.connect(t.port);
      assert.equal(await d.login('a@localhost', 'pw', 'two'), 'a@localhost/two');
      assert.equal(await ping(a), 'result');
      for (const x of [a, b, c, d]) x.destroy();
    } finally {
      await t.stop();
    }
  });

  it('closes a flooding session with policy-violation while others keep working', async () => {
    const t = await startTestServer({ users: { 'a@localhost': 'pw', 'b@localhost': 'pw' }, config: { limits: { stanzas_per_second: 10, stanza_burst: 20 } } });
    try {
      const sentinel = await RawClient.connect(t.port);
      await sentinel.login('b@localhost', 'pw', 's');
      const flood = await RawClient.connect(t.port);
      await flood.login('a@localhost', 'pw', 'f');
      flood.send(`<iq type='get' to='localhost' id='x'><ping xmlns='urn:xmpp:ping'/></iq>`.repeat(200));
      await flood.waitText(/<policy-violation xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/);
      await flood.waitClosed();
      assert.equal(await ping(sentinel), 'result');
      sentinel.destroy();
    } finally {
      await t.stop();
    }
  });

  it('throttles failed logins across connections and refuses outright past the limit', async () => {
    const t = await startTestServer({ users: { 'a@localhost': 'pw' }, config: { limits: { max_failed_logins: 3, auth_failure_delay_ms: 1 } } });
    try {
      const fail = async () => {
        const c = await RawClient.connect(t.port);
        c.send(NS_HEADER('localhost'));
        await c.waitStanza((e) => e.local === 'features');
        c.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from('\0a\0wrong').toString('base64')}</auth>`);
        const f = await c.waitStanza((e) => e.local === 'failure');
        c.destroy();
        return f.elements[0]!.local;
      };
      assert.deepEqual([await fail(), await fail(), await fail()], ['not-authorized', 'not-authorized', 'not-authorized']);
      assert.equal(await fail(), 'temporary-auth-failure');
      // Even the right password is refused from this address for now, and nothing about the account changed.
      const c = await RawClient.connect(t.port);
      await assert.rejects(c.login('a@localhost', 'pw'), /temporary-auth-failure/);
      c.destroy();
      assert.ok(await t.storage.accounts.get('a@localhost'));
    } finally {
      await t.stop();
    }
  });

  it('counts failures per IP and per account in a sliding window, with growing delays', () => {
    let now = 0;
    const th = new AuthThrottle(100, 5, () => now);
    assert.deepEqual([th.fail('1.1.1.1', 'a@x'), th.fail('1.1.1.1', 'a@x'), th.fail('1.1.1.1', 'a@x'), th.fail('1.1.1.1', 'a@x')], [100, 100, 200, 400]);
    // Another IP guessing the same account inherits the account's count.
    assert.equal(th.fail('2.2.2.2', 'a@x'), 800);
    assert.equal(th.blocked('1.1.1.1', undefined), false);
    th.fail('1.1.1.1', undefined);
    assert.equal(th.blocked('1.1.1.1', undefined), true);
    now += 16 * 60 * 1000;
    assert.equal(th.blocked('1.1.1.1', undefined), false);
    assert.equal(th.fail('1.1.1.1', 'a@x'), 100);
  });

  it('refills token buckets at their rate up to the burst', () => {
    let now = 0;
    const b = new TokenBucket(10, 5, () => now);
    assert.equal([1, 2, 3, 4, 5, 6].filter(() => b.take()).length, 5);
    now += 250;
    assert.equal([1, 2, 3, 4].filter(() => b.take()).length, 2);
    // 0.5 tokens left; spending 10 leaves a debt of 9.5, repaid in 950 ms at 10/s.
    assert.equal(b.spend(10), 950);
  });

  it('validates module options before starting, naming the key', () => {
    const base = { log_level: 'silent' };
    const build = (modules: Record<string, Record<string, unknown>>) => () =>
      new XmppServer({ config: parseConfig({ ...base, modules }), storage: createMemoryStorage(), modules: defaultModules() });
    assert.throws(build({ offline: { max_mesages: 5 } }), /modules\.offline: Unrecognized key: "max_mesages"/);
    assert.throws(build({ pep: { max_nodes: -1 } }), /modules\.pep\.max_nodes: /);
    assert.throws(build({ pepp: {} }), /modules\.pepp: no module is called pepp/);
  });

  it('reloads the TLS certificate for new connections without dropping existing streams', async () => {
    const t = await startTestServer({ users: { 'a@localhost': 'pw' } });
    try {
      const peerCert = () => new Promise<string>((resolve, reject) => {
        const s = tlsConnect({ port: t.tlsPort, host: '127.0.0.1', servername: 'localhost', rejectUnauthorized: false }, () => {
          resolve(new X509Certificate(s.getPeerCertificate(true).raw).fingerprint256);
          s.destroy();
        });
        s.once('error', reject);
      });
      const before = await peerCert();
      const existing = await RawClient.connectTls(t.tlsPort);
      await existing.login('a@localhost', 'pw', 'keep');
      const fresh = await generateSelfSigned(['localhost']);
      t.server.reloadTls(fresh);
      const after = await peerCert();
      assert.notEqual(after, before);
      assert.equal(after, new X509Certificate(fresh.cert).fingerprint256);
      assert.equal(await ping(existing), 'result');
      existing.destroy();
    } finally {
      await t.stop();
    }
  });
});

describe('TLS policy', () => {
  it('refuses TLS 1.1 and CBC suites, accepts TLS 1.3 and TLS 1.2 with AEAD', async () => {
    const t = await startTestServer();
    try {
      const hello = (opts: Record<string, unknown>) => new Promise<string>((resolve) => {
        const s = tlsConnect({ port: t.tlsPort, host: '127.0.0.1', servername: 'localhost', rejectUnauthorized: false, ...opts }, () => {
          resolve(`${s.getProtocol()} ${s.getCipher().name}`);
          s.destroy();
        });
        s.once('error', () => resolve('refused'));
      });
      assert.match(await hello({}), /^TLSv1\.3 /);
      assert.match(await hello({ maxVersion: 'TLSv1.2' }), /^TLSv1\.2 .*(GCM|CHACHA20)/);
      assert.equal(await hello({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA' }), 'refused');
      assert.equal(await hello({ minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }), 'refused');
    } finally {
      await t.stop();
    }
  });
});

describe('module host', () => {
  it('orders modules by requirements and refuses undeclared service use, missing and cyclic requirements', async () => {
    const { defineModule, orderModules, serviceKey } = await import('../../../src/server/core/module-host.ts');
    const A = serviceKey<number>('a-service');
    const a = defineModule({ name: 'a', provides: [A], setup: (api) => api.provide(A, 1) });
    const b = defineModule({ name: 'b', requires: ['a'], setup: (api) => assert.equal(api.use(A), 1) });
    const sneaky = defineModule({ name: 'sneaky', setup: (api) => void api.use(A) });
    assert.deepEqual(orderModules([b, a]).map((m) => m.name), ['a', 'b']);
    assert.throws(() => orderModules([b]), /requires module a, which is not loaded/);
    const c1 = defineModule({ name: 'c1', requires: ['c2'], setup() {} });
    const c2 = defineModule({ name: 'c2', requires: ['c1'], setup() {} });
    assert.throws(() => orderModules([c1, c2]), /cycle/);
    const server = (modules: Parameters<typeof orderModules>[0]) =>
      new XmppServer({ config: parseConfig({ log_level: 'silent', c2s: { listen: [] } }), storage: createMemoryStorage(), modules });
    const ok = server([b, a]);
    await ok.start();
    assert.equal(ok.service(A), 1);
    await ok.stop();
    await assert.rejects(server([a, sneaky]).start(), /module sneaky uses service a-service of module a without requiring it/);
    assert.throws(() => server([b]), /requires module a, which is not loaded/);
  });

  it('checks declared services and events: provided once, by their declarer, and only declared events fired', async () => {
    const { defineModule, serviceKey } = await import('../../../src/server/core/module-host.ts');
    const A = serviceKey<number>('a-service');
    // Checks made when the server is built or started alike reject here.
    const start = async (...modules: ReturnType<typeof defineModule>[]) =>
      new XmppServer({ config: parseConfig({ log_level: 'silent', c2s: { listen: [] } }), storage: createMemoryStorage(), modules }).start();
    const lazy = defineModule({ name: 'lazy', provides: [A], setup() {} });
    await assert.rejects(start(lazy), /module lazy did not provide a-service, which it declared/);
    const undeclared = defineModule({ name: 'undeclared', setup: (api) => api.provide(A, 1) });
    await assert.rejects(start(undeclared), /module undeclared provides service a-service without declaring it in provides/);
    const twin = defineModule({ name: 'twin', provides: [A], setup: (api) => api.provide(A, 2) });
    await assert.rejects(start(lazy, twin), /service a-service is provided by both lazy and twin/);
    // The types refuse an undeclared event; the host refuses it too, for modules written without them.
    const loud = defineModule({ name: 'loud', setup: (api) => void (api.fire as (n: string, e: unknown) => Promise<boolean>)('session-bound', {}) });
    await assert.rejects(start(loud), /module loud fires session-bound without declaring it in fires/);
  });
});
