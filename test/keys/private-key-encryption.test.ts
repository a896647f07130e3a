// Issue 18: private keys encrypted at rest. Our encrypted PKCS#8 uses scrypt (not node's default PBKDF2 at 2048
// iterations), openssl reads what we write and we read what openssl writes, and a wrong or missing passphrase
// has its own error code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  encryptPrivateKey, decryptPrivateKey, isEncryptedPem, savePrivateKey, loadPrivateKey, spkiBase64, exportPrivatePem, KeyError,
} from '../../src/keys/index.ts';

const root = mkdtempSync(join(tmpdir(), 'pepkeys-enc-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
const ed = () => generateKeyPairSync('ed25519').privateKey;
const rsa = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const code = (c: string) => (e: unknown) => e instanceof KeyError && e.code === c;
const openssl = (args: string[], input?: string) => execFileSync('openssl', args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });

test('encrypts with PBES2, scrypt and AES-256-CBC, and decrypts with the passphrase only', async () => {
  const key = rsa();
  const pem = await encryptPrivateKey(key, 'correct horse');
  assert.match(pem, /^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
  assert.ok(isEncryptedPem(pem));
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  assert.ok(der.includes(Buffer.from('06092a864886f70d01050d', 'hex')), 'PBES2');
  assert.ok(der.includes(Buffer.from('06092b06010401da47040b', 'hex')), 'scrypt');
  assert.ok(!der.includes(Buffer.from('06092a864886f70d01050c', 'hex')), 'not PBKDF2');
  assert.equal(spkiBase64(decryptPrivateKey(pem, 'correct horse')), spkiBase64(key));
  assert.throws(() => decryptPrivateKey(pem, 'correct horses'), code('bad-passphrase'));
  assert.throws(() => decryptPrivateKey(pem, undefined), code('passphrase-required'));
  // Two encryptions of one key differ (fresh salt and IV).
  assert.notEqual(await encryptPrivateKey(key, 'correct horse'), pem);
});

test('the synchronous PEM export encrypts the same way', () => {
  const key = ed();
  const pem = exportPrivatePem(key, 'pw');
  assert.ok(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64').includes(Buffer.from('2b06010401da47040b', 'hex')));
  assert.equal(spkiBase64(decryptPrivateKey(pem, 'pw')), spkiBase64(key));
});

test('a passphrase typed in another Unicode normalisation still opens the key', async () => {
  const key = ed();
  const pem = await encryptPrivateKey(key, 'Ame\u0301lie'); // e + combining acute
  assert.equal(spkiBase64(decryptPrivateKey(pem, 'Am\u00e9lie')), spkiBase64(key));
});

test('openssl reads our encrypted key, and we read openssl\'s (scrypt PKCS#8 and its default PBKDF2)', async () => {
  const key = rsa();
  const ours = join(root, 'ours.pem');
  writeFileSync(ours, await encryptPrivateKey(key, 'pässwörd'));
  const pub = openssl(['pkey', '-in', ours, '-passin', 'pass:pässwörd', '-pubout']);
  assert.equal(pub.replace(/-----[^-]+-----|\s/g, ''), spkiBase64(key));
  assert.throws(() => openssl(['pkey', '-in', ours, '-passin', 'pass:wrong', '-noout']));

  const plain = join(root, 'plain.pem');
  writeFileSync(plain, exportPrivatePem(key), { mode: 0o600 });
  const theirsScrypt = openssl(['pkcs8', '-topk8', '-scrypt', '-in', plain, '-passout', 'pass:s3cret']);
  assert.equal(spkiBase64(decryptPrivateKey(theirsScrypt, 's3cret')), spkiBase64(key));
  const theirsPbkdf2 = openssl(['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-in', plain, '-passout', 'pass:s3cret']);
  assert.equal(spkiBase64(decryptPrivateKey(theirsPbkdf2, 's3cret')), spkiBase64(key));
  assert.throws(() => decryptPrivateKey(theirsPbkdf2, 'nope'), code('bad-passphrase'));
});

test('key files: the passphrase is asked for only when the file is encrypted', async () => {
  const plainPath = join(root, 'keys', 'plain.pem');
  const encPath = join(root, 'keys', 'enc.pem');
  await savePrivateKey(plainPath, ed());
  await savePrivateKey(encPath, ed(), { passphrase: 'pw' });
  assert.match(readFileSync(encPath, 'utf8'), /BEGIN ENCRYPTED PRIVATE KEY/);
  let asked = 0;
  const ask = async () => (asked++, 'pw');
  await loadPrivateKey(plainPath, { passphrase: ask });
  assert.equal(asked, 0);
  assert.equal((await loadPrivateKey(encPath, { passphrase: ask })).asymmetricKeyType, 'ed25519');
  assert.equal(asked, 1);
  await assert.rejects(loadPrivateKey(encPath), code('passphrase-required'));
  await assert.rejects(loadPrivateKey(encPath, { passphrase: async () => 'nope', label: 'key X' }), (e: unknown) => code('bad-passphrase')(e) && /wrong passphrase for key X/.test((e as Error).message));
});
