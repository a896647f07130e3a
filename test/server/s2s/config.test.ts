// The [s2s] table: off by default, routes keyed by normalised domain, mistakes named by their path.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, resolveConfig } from '../../../src/server/config.ts';

describe('[s2s] configuration', () => {
  it('is off by default, with TLS required', () => {
    const c = parseConfig({});
    assert.deepEqual(c.s2s.listen, []);
    assert.deepEqual(c.s2s.routes, {});
    assert.equal(c.s2s.require_tls, true);
  });

  it('reads listeners and static routes from TOML, route domains normalised', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pepkeys-s2s-config-'));
    const file = join(dir, 'pepkeys.toml');
    writeFileSync(file, `hosts = ["capulet.lit"]\n[s2s]\nlisten = ["127.0.0.1:5269"]\n[s2s.routes]\n"Montague.LIT" = "10.0.0.7:5269"\n`);
    const c = resolveConfig(file);
    assert.deepEqual(c.s2s.listen, ['127.0.0.1:5269']);
    assert.deepEqual(c.s2s.routes, { 'montague.lit': '10.0.0.7:5269' });
  });

  it('names the offending key of a route without a port', () => {
    assert.throws(() => parseConfig({ s2s: { routes: { 'montague.lit': 'montague.example' } } }), /s2s\.routes\.montague\.lit: expected HOST:PORT/);
  });
});
