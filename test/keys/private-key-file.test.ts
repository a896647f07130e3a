// Private keys on disk: 0600 file in a 0700 directory, no silent overwrite, refusal to load a readable file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { savePrivateKey, loadPrivateKey, spkiBase64, KeyError } from '../../src/keys/index.ts';
import { edPrivate, rsaPrivate, vectors as v } from './helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'pepkeys-pk-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
const posix = process.platform !== 'win32';

test('saves 0600 in a new 0700 directory and loads back', async () => {
  const dir = join(root, 'a', 'keys');
  const path = join(dir, 'juliet.pem');
  await savePrivateKey(path, rsaPrivate());
  if (posix) {
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
  }
  assert.match(readFileSync(path, 'utf8'), /BEGIN PRIVATE KEY/);
  assert.equal(spkiBase64(await loadPrivateKey(path)), v.rsaSpki);
});

test('refuses to overwrite unless asked', async () => {
  const path = join(root, 'b', 'k.pem');
  await savePrivateKey(path, edPrivate());
  await assert.rejects(savePrivateKey(path, rsaPrivate()), (e: unknown) => e instanceof KeyError && e.code === 'insecure-file');
  await savePrivateKey(path, rsaPrivate(), { overwrite: true });
  assert.equal(spkiBase64(await loadPrivateKey(path)), v.rsaSpki);
});

test('passphrase-encrypted key', async () => {
  const path = join(root, 'c', 'k.pem');
  await savePrivateKey(path, edPrivate(), { passphrase: 's3cret' });
  assert.match(readFileSync(path, 'utf8'), /BEGIN ENCRYPTED PRIVATE KEY/);
  assert.equal((await loadPrivateKey(path, { passphrase: 's3cret' })).asymmetricKeyType, 'ed25519');
  await assert.rejects(loadPrivateKey(path, { passphrase: 'nope' }), (e: unknown) => e instanceof KeyError && e.code === 'bad-passphrase');
});

test('a key file readable by others is refused; a world-writable directory too', { skip: !posix }, async () => {
  const path = join(root, 'd', 'k.pem');
  await savePrivateKey(path, edPrivate());
  chmodSync(path, 0o644);
  await assert.rejects(loadPrivateKey(path), (e: unknown) => e instanceof KeyError && e.code === 'insecure-file');
  const open = join(root, 'e');
  mkdirSync(open);
  chmodSync(open, 0o777);
  await assert.rejects(savePrivateKey(join(open, 'k.pem'), edPrivate()), (e: unknown) => e instanceof KeyError && e.code === 'insecure-file');
});
