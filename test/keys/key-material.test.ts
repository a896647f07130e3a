// Key generation (one RSA-2048 for this file, shared), PEM import/export, X.509 and OpenPGP import.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sign, verify } from 'node:crypto';
import {
  generateKeyPair, spkiBase64, publicKeyFromSpkiBase64, exportPublicPem, exportPrivatePem, importPem, importX509,
  importOpenPgpPublicKey, rsaComponents, rsaPublicKeyFromComponents, KeyError, type ProgressEvent, type KeyPair,
} from '../../src/keys/index.ts';
import { fixtureText, rsaPublic, vectors as v } from './helpers.ts';

let shared: Promise<KeyPair> | undefined;
const events: ProgressEvent[] = [];
function rsa2048(): Promise<KeyPair> {
  return (shared ??= generateKeyPair({ type: 'rsa', bits: 2048, onProgress: (e) => events.push(e), progressIntervalMs: 5 }));
}

test('RSA-2048 generation reports start and done, yields e=65537 and a usable key', async () => {
  const pair = await rsa2048();
  assert.equal(pair.kind, 'rsa');
  assert.equal(events[0]!.phase, 'start');
  assert.equal(events.at(-1)!.phase, 'done');
  const c = rsaComponents(pair.publicKey);
  assert.equal(c.modulus.toString(2).length, 2048);
  assert.equal(c.publicExponent, 65537n);
  const sig = sign('sha256', Buffer.from('x'), pair.privateKey);
  assert.equal(verify('sha256', Buffer.from('x'), pair.publicKey, sig), true);
});

test('Ed25519 generation; unsupported sizes refused', async () => {
  const pair = await generateKeyPair({ type: 'ed25519' });
  assert.equal(pair.kind, 'ed25519');
  assert.match(spkiBase64(pair.publicKey), /^MCowBQYDK2VwAyEA/);
  await assert.rejects(generateKeyPair({ type: 'rsa', bits: 1024 as 2048 }), (e: unknown) => e instanceof KeyError && e.code === 'unsupported-algorithm');
});

test('ASCII output is base64 SPKI without line breaks and reads back with or without whitespace', async () => {
  const pair = await rsa2048();
  const ascii = spkiBase64(pair.publicKey);
  assert.doesNotMatch(ascii, /\s/);
  assert.match(ascii, /^MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA/); // SPKI of RSA-2048, like the 0.13 example
  const wrapped = `\n  ${ascii.match(/.{1,64}/g)!.join('\n  ')}\n`;
  assert.equal(spkiBase64(publicKeyFromSpkiBase64(wrapped)), ascii);
  assert.throws(() => publicKeyFromSpkiBase64('AAAA'), (e: unknown) => e instanceof KeyError && e.code === 'bad-key');
  assert.throws(() => publicKeyFromSpkiBase64('%%%'), KeyError);
});

test('PEM export/import, plain and passphrase-encrypted', async () => {
  const pair = await rsa2048();
  const pub = importPem(exportPublicPem(pair.publicKey));
  assert.equal(spkiBase64(pub.publicKey), spkiBase64(pair.publicKey));
  assert.equal(pub.privateKey, undefined);
  const plain = importPem(exportPrivatePem(pair.privateKey));
  assert.equal(spkiBase64(plain.publicKey), spkiBase64(pair.publicKey));
  const encPem = exportPrivatePem(pair.privateKey, 'correct horse');
  assert.match(encPem, /BEGIN ENCRYPTED PRIVATE KEY/);
  assert.equal(spkiBase64(importPem(encPem, 'correct horse').publicKey), spkiBase64(pair.publicKey));
  assert.throws(() => importPem(encPem, 'wrong'), KeyError);
  assert.equal(importPem(fixtureText('test-ed25519.key.pem')).kind, 'ed25519');
  assert.equal(spkiBase64(importPem(fixtureText('test-rsa-2048.pub.pem')).publicKey), v.rsaSpki);
});

test('X.509 import: key, validity and SHA-256 fingerprint as openssl reports them', () => {
  const pem = fixtureText('test-rsa-2048.cert.pem');
  const cert = importX509(pem);
  assert.equal(spkiBase64(cert.publicKey), v.rsaSpki);
  assert.equal(cert.notBefore.toISOString(), '2026-11-23T16:57:50.000Z');
  assert.equal(cert.notAfter.toISOString(), '2036-11-20T16:57:50.000Z');
  assert.equal(cert.fingerprint256, '68:64:18:6D:64:3B:3B:C6:21:34:47:A9:19:08:CD:BC:8B:5A:B2:DB:37:00:F7:6B:89:DD:08:3A:31:BA:AF:A1');
  assert.match(cert.subject, /CN=juliet@capulet.lit/);
  assert.equal(importX509(cert.derBase64).fingerprint256, cert.fingerprint256);
  assert.equal(importPem(pem).certificate!.fingerprint256, cert.fingerprint256);
  assert.throws(() => importX509('bm90IGEgY2VydA=='), KeyError);
});

test('OpenPGP import (GnuPG keys): Ed25519 and RSA primary keys map onto node keys', async () => {
  const ed = await importOpenPgpPublicKey(fixtureText('openpgp-romeo.pub.asc'));
  assert.equal(ed.kind, 'ed25519');
  assert.match(spkiBase64(ed.publicKey!), /^MCowBQYDK2VwAyEA/);
  const rsa = await importOpenPgpPublicKey(fixtureText('openpgp-mercutio-rsa.pub.asc'));
  assert.equal(rsa.fingerprint, fixtureText('openpgp-mercutio-rsa.fpr').trim());
  assert.equal(rsa.kind, 'rsa');
  assert.equal(rsaComponents(rsa.publicKey!).modulus.toString(2).length, 2048);
  await assert.rejects(importOpenPgpPublicKey('-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----'), KeyError);
});

test('RSA components round-trip to the same SPKI', () => {
  const c = rsaComponents(rsaPublic());
  assert.equal(c.modulus.toString(10), v.rsaModulusDecimal);
  assert.equal(spkiBase64(rsaPublicKeyFromComponents(c)), v.rsaSpki);
});
