// Ed25519 signers and verifiers on WebCrypto (crypto.subtle), for environments without node:crypto KeyObjects:
// the browser console keeps its private key as a non-extractable CryptoKey. They implement the same SigningKey
// and VerifyingKey as signing.ts, so revocations and attestations are built and checked by the one code path
// in revocation.ts / attestation.ts; the <signature/> text is base64 of the raw signature in both.
import { pubkeyPrintBytes, pubkeyValidity, type Pubkey } from './pubkey.ts';
import { stripWhitespace } from './material.ts';
import type { SigningKey, VerifyingKey } from './signing.ts';
import type { webcrypto } from 'node:crypto';
import { base64ToBytes as fromBase64, bytesToBase64 as toBase64 } from '../protocol/base64.ts';

// Node's typings name WebCrypto's types under `webcrypto`; the browser's are the same interfaces.
type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const ED25519 = { name: 'Ed25519' } as const;

/** A fresh Ed25519 key pair whose private half cannot be exported (only used to sign, through this API). */
export async function generateEd25519CryptoKey(): Promise<CryptoKeyPair> {
  return (await globalThis.crypto.subtle.generateKey(ED25519, false, ['sign', 'verify'])) as CryptoKeyPair;
}

/** The public key as base64 SubjectPublicKeyInfo: what a urn:xmpp:pubkey:1 <key/> carries. */
export async function spkiBase64Of(publicKey: CryptoKey): Promise<string> {
  return toBase64(new Uint8Array(await globalThis.crypto.subtle.exportKey('spki', publicKey)));
}

/** Our published key and its private CryptoKey: the print and validity are the pubkey's. */
export function webCryptoSigner(pk: Pubkey, privateKey: CryptoKey): SigningKey {
  return {
    kind: 'ed25519',
    printBytes: (algo) => pubkeyPrintBytes(pk, algo),
    validity: pubkeyValidity(pk),
    async sign(data) {
      return toBase64(new Uint8Array(await globalThis.crypto.subtle.sign(ED25519, privateKey, data as Uint8Array<ArrayBuffer>)));
    },
  };
}

/** A contact's published Ed25519 key (urn:xmpp:pubkey:1 ASCII form) as a verifier. */
export async function webCryptoVerifier(pk: Pubkey): Promise<VerifyingKey> {
  if (pk.form !== 'ascii') throw new Error('only Ed25519 keys in the ASCII form can be checked with WebCrypto here');
  const publicKey = await globalThis.crypto.subtle.importKey('spki', fromBase64(pk.key), ED25519, true, ['verify']);
  return {
    kind: 'ed25519',
    printBytes: (algo) => pubkeyPrintBytes(pk, algo),
    validity: pubkeyValidity(pk),
    async verify(data, signature) {
      const s = stripWhitespace(signature);
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(s) || s.length % 4 !== 0) return false;
      try {
        return await globalThis.crypto.subtle.verify(ED25519, publicKey, fromBase64(s), data as Uint8Array<ArrayBuffer>);
      } catch {
        return false;
      }
    },
  };
}
