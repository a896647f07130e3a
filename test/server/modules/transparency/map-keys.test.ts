// The verifiable map's per-domain keys (Stage 2): a VRF key and a commitment secret beside the log key,
// created 0600 on first use, the same after a reload, refused when others may read them; and the domain
// answers <vrf-key/> with the VRF public key over a real socket, which verifies labels it makes.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../../../helpers/server.ts';
import { RawClient } from '../../../helpers/raw-client.ts';
import { defaultModules } from '../../../../src/server/modules/index.ts';
import { transparencyModule } from '../../../../src/server/modules/transparency/index.ts';
import { commitSecretPath, loadOrCreateMapKeys, vrfKeyPath } from '../../../../src/server/modules/transparency/map-keys.ts';
import { NS_KT } from '../../../../src/transparency/protocol.ts';
import { parseVrfKey } from '../../../../src/transparency/vrf-key.ts';
import { mapLabel, verifyMapLabel } from '../../../../src/transparency/map-label.ts';
import { vrfKeyPairFromSeed } from '../../../../src/transparency/vrf.ts';

const STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const dirs: string[] = [];
const scratch = () => {
  const d = mkdtempSync(join(tmpdir(), 'pepkeys-kt-map-keys-'));
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('loadOrCreateMapKeys', () => {
  it('creates the VRF key and the commitment secret 0600 in a 0700 kt/, then loads the same keys', () => {
    const dir = scratch();
    const first = loadOrCreateMapKeys(dir, 'capulet.lit');
    assert.equal(first.created, true);
    assert.equal(statSync(join(dir, 'kt')).mode & 0o777, 0o700);
    for (const p of [vrfKeyPath(dir, 'capulet.lit'), commitSecretPath(dir, 'capulet.lit')]) assert.equal(statSync(p).mode & 0o777, 0o600, p);
    assert.equal(first.commitSecret.length, 32);
    assert.match(readFileSync(vrfKeyPath(dir, 'capulet.lit'), 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);
    // The public key is the one the seed gives (RFC 8032), so the key pair is consistent.
    assert.deepEqual(vrfKeyPairFromSeed(first.vrf.secretKey).publicKey, first.vrf.publicKey);

    const again = loadOrCreateMapKeys(dir, 'capulet.lit');
    assert.equal(again.created, false);
    assert.deepEqual(again.vrf, first.vrf);
    assert.deepEqual(again.commitSecret, first.commitSecret);

    const other = loadOrCreateMapKeys(dir, 'montague.lit');
    assert.notDeepEqual(other.vrf.publicKey, first.vrf.publicKey);
    assert.notDeepEqual(other.commitSecret, first.commitSecret);
  });

  it('refuses key files others may read, and a commitment secret of the wrong length', () => {
    const dir = scratch();
    loadOrCreateMapKeys(dir, 'capulet.lit');
    chmodSync(vrfKeyPath(dir, 'capulet.lit'), 0o644);
    assert.throws(() => loadOrCreateMapKeys(dir, 'capulet.lit'), /readable or writable by others/);
    chmodSync(vrfKeyPath(dir, 'capulet.lit'), 0o600);
    chmodSync(commitSecretPath(dir, 'capulet.lit'), 0o640);
    assert.throws(() => loadOrCreateMapKeys(dir, 'capulet.lit'), /readable or writable by others/);
    writeFileSync(commitSecretPath(dir, 'capulet.lit'), new Uint8Array(16), { mode: 0o600 });
    chmodSync(commitSecretPath(dir, 'capulet.lit'), 0o600);
    assert.throws(() => loadOrCreateMapKeys(dir, 'capulet.lit'), /not 32 bytes/);
  });
});

describe('<vrf-key/> over TCP', () => {
  let t: TestServer;
  let dataDir: string;
  let c: RawClient;

  before(async () => {
    dataDir = scratch();
    t = await startTestServer({
      users: { 'juliet@localhost': 'pw' },
      modules: [...defaultModules(), transparencyModule({ dataDir, epochMs: 3_600_000 })],
    });
    c = await RawClient.connect(t.port);
    await c.login('juliet@localhost', 'pw', 'r');
  });
  after(async () => {
    c?.destroy();
    await t?.stop();
  });

  it('the server made the domain keys at start, and answers the VRF public key, which verifies its labels', async () => {
    assert.equal(statSync(vrfKeyPath(dataDir, 'localhost')).mode & 0o777, 0o600);
    assert.equal(statSync(commitSecretPath(dataDir, 'localhost')).mode & 0o777, 0o600);
    const r = await c.iq(`<iq type='get' to='localhost'><vrf-key xmlns='${NS_KT}'/></iq>`);
    assert.equal(r.attrs.type, 'result', r.toString());
    const el = r.getChild('vrf-key', NS_KT)!;
    assert.equal(el.attrs.suite, 'ECVRF-EDWARDS25519-SHA512-TAI');
    const publicKey = parseVrfKey(el);
    const keys = loadOrCreateMapKeys(dataDir, 'localhost');
    assert.deepEqual(publicKey, keys.vrf.publicKey);
    const { label, proof } = mapLabel(keys.vrf.secretKey, 'juliet@localhost', 'urn:xmpp:pubkey:2', 1);
    assert.deepEqual(verifyMapLabel(publicKey, 'juliet@localhost', 'urn:xmpp:pubkey:2', 1, proof), label);
  });

  it('a request it does not know is still refused', async () => {
    const r = await c.iq(`<iq type='get' to='localhost'><vrf-keys xmlns='${NS_KT}'/></iq>`);
    assert.equal(r.attrs.type, 'error');
    assert.ok(r.getChild('error')?.getChild('feature-not-implemented', STANZAS));
  });
});
