// Signers and verifiers for XEP-0189 revocations and attestations: RSA-SHA256 (PKCS#1 v1.5) and Ed25519 with
// node:crypto, and OpenPGP detached signatures with openpgp.js. The <signature/> text is base64 of the raw
// signature for node keys and, for OpenPGP, the body of an ASCII-armored signature (base64 lines plus the
// "=XXXX" CRC-24 line, without the BEGIN/END lines) as in the XEP-0189 0.13/0.14 examples.
import { createPublicKey, sign as nodeSign, verify as nodeVerify, constants, type KeyObject } from 'node:crypto';
import * as openpgp from 'openpgp';
import { KeyError } from './errors.ts';
import { digest, type HashAlgo } from './hash.ts';
import { keyKind, stripWhitespace, wrapBase64 } from './material.ts';
import { pubkeyPrintBytes, pubkeyPublicKey, pubkeyValidity, type Pubkey } from './pubkey.ts';
import type { Validity } from './validity.ts';

export type SignatureKind = 'rsa' | 'ed25519' | 'openpgp';

interface KeyCommon {
  kind: SignatureKind;
  /** Digest identifying this key in revocationprint / signerprint, for the requested hash. */
  printBytes(algo: HashAlgo): Buffer;
  /** Window in which the key may be used, when known. */
  validity?: Validity;
}

export interface SigningKey extends KeyCommon {
  /** Signs the UTF-8 signed string; returns the <signature/> text (whitespace-free). */
  sign(data: Uint8Array): Promise<string>;
}

export interface VerifyingKey extends KeyCommon {
  verify(data: Uint8Array, signature: string): Promise<boolean>;
}

// ---------------------------------------------------------------- node:crypto keys

function nodeSignRaw(privateKey: KeyObject, data: Uint8Array): Buffer {
  return keyKind(privateKey) === 'rsa'
    ? nodeSign('sha256', data, { key: privateKey, padding: constants.RSA_PKCS1_PADDING })
    : nodeSign(null, data, privateKey);
}

function nodeVerifyRaw(publicKey: KeyObject, data: Uint8Array, sig: Buffer): boolean {
  return keyKind(publicKey) === 'rsa'
    ? nodeVerify('sha256', data, { key: publicKey, padding: constants.RSA_PKCS1_PADDING }, sig)
    : nodeVerify(null, data, publicKey, sig);
}

function decodeRawSignature(text: string): Buffer | undefined {
  const s = stripWhitespace(text);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(s) || s.length % 4 !== 0) return undefined;
  return Buffer.from(s, 'base64');
}

/** A node:crypto private key with an explicit print function (e.g. for a key not published as <pubkey/>). */
export function nodeSigner(privateKey: KeyObject, printBytes: (algo: HashAlgo) => Buffer, validity?: Validity): SigningKey {
  if (privateKey.type !== 'private') throw new KeyError('bad-key', 'signing needs a private key');
  const kind = keyKind(privateKey);
  return {
    kind,
    printBytes,
    ...(validity ? { validity } : {}),
    async sign(data) {
      return nodeSignRaw(privateKey, data).toString('base64');
    },
  };
}

export function nodeVerifier(publicKey: KeyObject, printBytes: (algo: HashAlgo) => Buffer, validity?: Validity): VerifyingKey {
  const kind = keyKind(publicKey);
  return {
    kind,
    printBytes,
    ...(validity ? { validity } : {}),
    async verify(data, signature) {
      const sig = decodeRawSignature(signature);
      if (!sig) return false;
      try {
        return nodeVerifyRaw(publicKey, data, sig);
      } catch {
        return false;
      }
    },
  };
}

/** Our published key plus its private half: the print is the pubkey's print, the window its begin/end. */
export function signerFromPubkey(pk: Pubkey, privateKey: KeyObject): SigningKey {
  const expected = pubkeyPublicKey(pk).export({ type: 'spki', format: 'der' });
  const actual = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  if (!expected.equals(actual)) throw new KeyError('bad-key', 'private key does not belong to this published key');
  return nodeSigner(privateKey, (algo) => pubkeyPrintBytes(pk, algo), pubkeyValidity(pk));
}

/** A contact's published key as a verifier. */
export function verifierFromPubkey(pk: Pubkey): VerifyingKey {
  return nodeVerifier(pubkeyPublicKey(pk), (algo) => pubkeyPrintBytes(pk, algo), pubkeyValidity(pk));
}

// ---------------------------------------------------------------- OpenPGP

/**
 * The fingerprint of an OpenPGP key in XEP-0189 prints (64 hex digits for SHA-256 in the examples): the
 * OpenPGP fingerprint construction of the primary key with the requested hash — v4: hash(0x99 ‖ 2-octet
 * length ‖ key packet body), v6: hash(0x9B ‖ 4-octet length ‖ body). For a v6 key and SHA-256 this is its own
 * fingerprint. User IDs and certifications are excluded, so re-certifying a key does not change it.
 */
export function openPgpPrintBytes(key: openpgp.Key, algo: HashAlgo = 'sha-256'): Buffer {
  // A secret key packet serialises its secret material too; hash the public packet only.
  const packet = (key.isPrivate() ? key.toPublic() : key).keyPacket;
  const body = packet.write();
  const v6 = packet.version >= 6;
  const head = v6 ? Buffer.alloc(5) : Buffer.alloc(3);
  if (v6) {
    head[0] = 0x9b;
    head.writeUInt32BE(body.length, 1);
  } else {
    head[0] = 0x99;
    head.writeUInt16BE(body.length, 1);
  }
  return digest(algo, Buffer.concat([head, body]));
}

export function openPgpSigner(privateKey: openpgp.PrivateKey, validity?: Validity): SigningKey {
  if (!privateKey.isDecrypted()) throw new KeyError('bad-key', 'OpenPGP private key must be decrypted first');
  return {
    kind: 'openpgp',
    printBytes: (algo) => openPgpPrintBytes(privateKey, algo),
    ...(validity ? { validity } : {}),
    async sign(data) {
      const message = await openpgp.createMessage({ binary: data });
      const sig = await openpgp.sign({ message, signingKeys: privateKey, detached: true, format: 'binary' });
      return armorBody(sig as Uint8Array);
    },
  };
}

export function openPgpVerifier(publicKey: openpgp.PublicKey, validity?: Validity): VerifyingKey {
  return {
    kind: 'openpgp',
    printBytes: (algo) => openPgpPrintBytes(publicKey, algo),
    ...(validity ? { validity } : {}),
    async verify(data, signatureText) {
      let signature: openpgp.Signature;
      try {
        signature = await readOpenPgpSignature(signatureText);
      } catch {
        return false;
      }
      const message = await openpgp.createMessage({ binary: data });
      try {
        const result = await openpgp.verify({ message, signature, verificationKeys: publicKey, expectSigned: true, format: 'binary' });
        return (await result.signatures[0]!.verified) === true;
      } catch {
        return false;
      }
    },
  };
}

/** Reads a <signature/> text: a full ASCII-armored block or just its body (as in the XEP-0189 examples). */
export async function readOpenPgpSignature(text: string): Promise<openpgp.Signature> {
  if (text.includes('-----BEGIN PGP SIGNATURE-----')) return openpgp.readSignature({ armoredSignature: text });
  const bytes = unarmorBody(text);
  return openpgp.readSignature({ binarySignature: bytes });
}

/** Armor body: base64 of the packets, whitespace-free here, followed by "=" and the base64 CRC-24 (RFC 4880 §6.1). */
export function armorBody(bytes: Uint8Array): string {
  return `${Buffer.from(bytes).toString('base64')}=${crc24Base64(bytes)}`;
}

/** Splits an armor body (whitespace ignored) into its data, checking the CRC-24 when present. */
export function unarmorBody(text: string): Uint8Array {
  const { data, crc } = splitArmorBody(text);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(data) || data.length % 4 !== 0) throw new KeyError('bad-payload', 'OpenPGP signature is not base64');
  const bytes = Buffer.from(data, 'base64');
  if (crc !== undefined && crc !== crc24Base64(bytes)) throw new KeyError('bad-signature', 'OpenPGP armor checksum does not match');
  return bytes;
}

/**
 * "=XXXX" at the end is the CRC line: base64 data may only end in one or two '=' padding characters, never in
 * '=' followed by four base64 characters, so the split is unambiguous even with whitespace removed.
 */
export function splitArmorBody(text: string): { data: string; crc?: string } {
  const s = stripWhitespace(text);
  const m = /=([A-Za-z0-9+/]{4})$/.exec(s);
  if (m && (s.length - 5) % 4 === 0) return { data: s.slice(0, -5), crc: m[1]! };
  return { data: s };
}

/** Line layout of a <signature/> text: 64-character base64 lines, the CRC on its own line like the examples. */
export function signatureLines(text: string): string[] {
  const { data, crc } = splitArmorBody(text);
  const lines = wrapBase64(data);
  if (crc !== undefined) lines.push(`=${crc}`);
  return lines;
}

// RFC 4880 §6.1 CRC-24.
function crc24Base64(bytes: Uint8Array): string {
  let crc = 0xb704ce;
  for (const b of bytes) {
    crc ^= b << 16;
    for (let i = 0; i < 8; i++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  crc &= 0xffffff;
  return Buffer.from([(crc >> 16) & 0xff, (crc >> 8) & 0xff, crc & 0xff]).toString('base64');
}
