import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, resolveConfig, storagePath } from '../../src/server/config.ts';

describe('configuration', () => {
  it('has working defaults', () => {
    const c = parseConfig({});
    assert.deepEqual(c.hosts, ['localhost']);
    assert.deepEqual(c.c2s.listen, ['127.0.0.1:5222']);
    assert.equal(c.c2s.require_tls, true);
    assert.equal(c.storage.driver, 'sqlite');
    assert.equal(c.storage.sync, 'full');
    assert.match(storagePath(c), /data\/pepkeys\.sqlite$/);
  });

  it('names the path of every bad key', () => {
    assert.throws(() => parseConfig({ c2s: { listen: ['nope'] } }), /c2s\.listen\[0\]: expected HOST:PORT/);
    assert.throws(() => parseConfig({ limits: { max_depth: 'deep' } }), /limits\.max_depth: /);
    assert.throws(() => parseConfig({ storage: { sync: 'sometimes' } }), /storage\.sync: /);
    assert.throws(() => parseConfig({ hosts: ['bad host'] }), /hosts\[0\]: invalid domain/);
    assert.throws(() => parseConfig({ surprise: 1 }), /Unrecognized key: "surprise"/);
    assert.throws(() => parseConfig({ tls: { cert: 'a.pem' } }), /tls\.cert and tls\.key must be given together/);
  });

  it('lets command-line flags override the file', () => {
    const c = resolveConfig(undefined, { hosts: ['Capulet.LIT'], listen: ['127.0.0.1:0'], insecurePlainAuth: true, data: '/tmp/x' });
    assert.deepEqual(c.hosts, ['capulet.lit']);
    assert.deepEqual(c.c2s.listen, ['127.0.0.1:0']);
    assert.equal(c.c2s.require_tls, false);
    assert.equal(c.c2s.insecure_plain_auth, true);
    assert.equal(c.data_dir, '/tmp/x');
  });
});
