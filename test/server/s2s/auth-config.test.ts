// The [s2s] authentication settings: defaults that change nothing for dialback peers, normalised
// insecure domains, and trusted_certs mistakes named at start.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../../src/server/config.ts';
import { startTestServer } from '../../helpers/server.ts';

describe('[s2s] authentication configuration', () => {
  it('defaults: no secure_auth, no insecure domains, no extra trust, no direct-TLS listener', () => {
    const c = parseConfig({});
    assert.equal(c.s2s.secure_auth, false);
    assert.deepEqual(c.s2s.insecure_domains, []);
    assert.deepEqual(c.s2s.trusted_certs, []);
    assert.deepEqual(c.s2s.tls_listen, []);
  });

  it('normalises insecure domains like hosts', () => {
    assert.deepEqual(parseConfig({ s2s: { insecure_domains: ['Old.Example'] } }).s2s.insecure_domains, ['old.example']);
  });

  it('refuses to start with an unreadable CA file or a malformed pin, naming the setting', async () => {
    await assert.rejects(startTestServer({ hosts: ['capulet.lit'], config: { s2s: { listen: ['127.0.0.1:0'], trusted_certs: ['/nonexistent/ca.pem'] } } }), /s2s\.trusted_certs: cannot read "\/nonexistent\/ca\.pem"/);
    await assert.rejects(startTestServer({ hosts: ['capulet.lit'], config: { s2s: { listen: ['127.0.0.1:0'], trusted_certs: ['sha256:abcd'] } } }), /s2s\.trusted_certs: "sha256:abcd" is not a SHA-256 fingerprint/);
  });

  it('turns federation on with only a direct-TLS listener', async () => {
    const s = await startTestServer({ hosts: ['capulet.lit'], config: { s2s: { tls_listen: ['127.0.0.1:0'] } } });
    try {
      assert.ok(s.server.s2s);
      assert.ok(s.s2sTlsPort > 0);
      assert.equal(s.s2sPort, 0);
    } finally {
      await s.stop();
    }
  });
});
