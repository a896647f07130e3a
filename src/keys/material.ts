// Key material: generation, the "ASCII output" of XEP-0189 0.13 (base64 DER SubjectPublicKeyInfo), RSA
// modulus/exponent for 0.14's <rsakey/>, PEM import/export, X.509 certificates and OpenPGP public keys.
import { createPublicKey, generateKeyPair as nodeGenerateKeyPair, X509Certificate, type KeyObject } from 'node:crypto';
import * as openpgp from 'openpgp';
import { KeyError } from './errors.ts';
import { decryptPrivateKey, encryptPrivateKeySync } from './private-key-encryption.ts';

export type KeyKind = 'rsa' | 'ed25519';
export type RsaBits = 2048 | 3072 | 4096;

export interface KeyPair {
  kind: KeyKind;
  publicKey: KeyObject;
  privateKey: KeyObject;
}

/** Progress hook for long generations (RSA-4096 takes seconds): start, periodic ticks, done. */
export type ProgressEvent = { phase: 'start' } | { phase: 'working'; elapsedMs: number } | { phase: 'done'; elapsedMs: number };

export type GenerateOptions =
  | { type: 'rsa'; bits?: RsaBits; onProgress?: (e: ProgressEvent) => void; progressIntervalMs?: number }
  | { type: 'ed25519'; onProgress?: (e: ProgressEvent) => void; progressIntervalMs?: number };

const RSA_BITS: readonly number[] = [2048, 3072, 4096];

/**
 * Generates a key pair off the main thread (node:crypto runs it on the libuv pool). RSA uses e = 65537, which
 * XEP-0189 0.14 §3 RECOMMENDS for <publicExponent/>. Node reports no progress of its own, so the hook gets
 * elapsed-time ticks the CLI can animate.
 */
export async function generateKeyPair(opts: GenerateOptions): Promise<KeyPair> {
  const started = Date.now();
  opts.onProgress?.({ phase: 'start' });
  const timer = opts.onProgress
    ? setInterval(() => opts.onProgress!({ phase: 'working', elapsedMs: Date.now() - started }), opts.progressIntervalMs ?? 250)
    : undefined;
  try {
    const pair = await new Promise<{ publicKey: KeyObject; privateKey: KeyObject }>((resolve, reject) => {
      const cb = (err: Error | null, publicKey: KeyObject, privateKey: KeyObject) => (err ? reject(err) : resolve({ publicKey, privateKey }));
      if (opts.type === 'rsa') {
        const bits = opts.bits ?? 3072;
        if (!RSA_BITS.includes(bits)) throw new KeyError('unsupported-algorithm', `RSA key size must be 2048, 3072 or 4096, not ${bits}`);
        nodeGenerateKeyPair('rsa', { modulusLength: bits, publicExponent: 65537 }, cb);
      } else if (opts.type === 'ed25519') {
        nodeGenerateKeyPair('ed25519', {}, cb);
      } else {
        throw new KeyError('unsupported-algorithm', `unsupported key type ${(opts as { type: string }).type}`);
      }
    });
    opts.onProgress?.({ phase: 'done', elapsedMs: Date.now() - started });
    return { kind: opts.type, ...pair };
  } finally {
    if (timer) clearInterval(timer);
  }
}

export function keyKind(key: KeyObject): KeyKind {
  const t = key.asymmetricKeyType;
  if (t === 'rsa' || t === 'ed25519') return t;
  throw new KeyError('unsupported-algorithm', `unsupported key type ${t ?? key.type}`);
}

/** XEP-0189 0.13 §3 "ASCII output" of a public key: base64 of the DER SubjectPublicKeyInfo, unwrapped. */
export function spkiBase64(publicKey: KeyObject): string {
  return toPublic(publicKey).export({ type: 'spki', format: 'der' }).toString('base64');
}

/** Reads the character data of a <key/> element; XML whitespace (line breaks) inside it is not significant. */
export function publicKeyFromSpkiBase64(text: string): KeyObject {
  const b64 = stripWhitespace(text);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) throw new KeyError('bad-key', 'key is not base64');
  try {
    const key = createPublicKey({ key: Buffer.from(b64, 'base64'), format: 'der', type: 'spki' });
    keyKind(key);
    return key;
  } catch (e) {
    if (e instanceof KeyError) throw e;
    throw new KeyError('bad-key', `key is not a DER SubjectPublicKeyInfo: ${(e as Error).message}`);
  }
}

/** Removes XML whitespace (#x20 #x9 #xD #xA). */
export function stripWhitespace(s: string): string {
  return s.replace(/[ \t\r\n]+/g, '');
}

/** Breaks base64 into lines of `width` characters (64, like PEM and the XEP-0189 examples). */
export function wrapBase64(s: string, width = 64): string[] {
  const lines: string[] = [];
  for (let i = 0; i < s.length; i += width) lines.push(s.slice(i, i + width));
  return lines;
}

export interface RsaComponents {
  modulus: bigint;
  publicExponent: bigint;
}

export function rsaComponents(key: KeyObject): RsaComponents {
  const pub = toPublic(key);
  if (pub.asymmetricKeyType !== 'rsa') throw new KeyError('unsupported-algorithm', 'not an RSA key');
  const jwk = pub.export({ format: 'jwk' });
  return { modulus: bytesToBigint(Buffer.from(jwk.n!, 'base64url')), publicExponent: bytesToBigint(Buffer.from(jwk.e!, 'base64url')) };
}

export function rsaPublicKeyFromComponents(c: RsaComponents): KeyObject {
  if (c.modulus <= 0n || c.publicExponent <= 1n) throw new KeyError('bad-key', 'RSA modulus and exponent must be positive');
  try {
    return createPublicKey({
      key: { kty: 'RSA', n: bigintToBytes(c.modulus).toString('base64url'), e: bigintToBytes(c.publicExponent).toString('base64url') },
      format: 'jwk',
    });
  } catch (e) {
    throw new KeyError('bad-key', `invalid RSA public key: ${(e as Error).message}`);
  }
}

export function bytesToBigint(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt(`0x${Buffer.from(b).toString('hex')}`);
}

export function bigintToBytes(n: bigint): Buffer {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return Buffer.from(hex, 'hex');
}

function toPublic(key: KeyObject): KeyObject {
  return key.type === 'private' ? createPublicKey(key) : key;
}

// ---------------------------------------------------------------- PEM

export function exportPublicPem(key: KeyObject): string {
  return toPublic(key).export({ type: 'spki', format: 'pem' }).toString();
}

/** PKCS#8 PEM; with a passphrase it is encrypted (PBES2: scrypt and AES-256-CBC, see private-key-encryption.ts). */
export function exportPrivatePem(key: KeyObject, passphrase?: string): string {
  if (key.type !== 'private') throw new KeyError('bad-key', 'not a private key');
  return passphrase === undefined ? key.export({ type: 'pkcs8', format: 'pem' }).toString() : encryptPrivateKeySync(key, passphrase);
}

export interface ImportedPem {
  kind: KeyKind;
  publicKey: KeyObject;
  privateKey?: KeyObject;
  certificate?: CertificateInfo;
}

/** Imports a PEM public key, private key (PKCS#8, PKCS#1, encrypted) or X.509 certificate. */
export function importPem(pem: string, passphrase?: string): ImportedPem {
  if (pem.includes('-----BEGIN CERTIFICATE-----')) {
    const certificate = importX509(pem);
    return { kind: certificate.kind, publicKey: certificate.publicKey, certificate };
  }
  try {
    if (/-----BEGIN (ENCRYPTED |RSA |EC )?PRIVATE KEY-----/.test(pem)) {
      const privateKey = decryptPrivateKey(pem, passphrase, 'the PEM private key');
      return { kind: keyKind(privateKey), publicKey: createPublicKey(privateKey), privateKey };
    }
    const publicKey = createPublicKey({ key: pem, format: 'pem' });
    return { kind: keyKind(publicKey), publicKey };
  } catch (e) {
    if (e instanceof KeyError) throw e;
    throw new KeyError('bad-key', `cannot read PEM key: ${(e as Error).message}`);
  }
}

// ---------------------------------------------------------------- X.509

export interface CertificateInfo {
  kind: KeyKind;
  publicKey: KeyObject;
  subject: string;
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 of the DER certificate, colon-separated hex as node:crypto prints it. */
  fingerprint256: string;
  /** Base64 of the DER certificate, as carried in <X509Certificate/>. */
  derBase64: string;
}

/** Imports a certificate given as PEM, DER bytes or base64 DER (the <X509Certificate/> content). */
export function importX509(input: string | Uint8Array): CertificateInfo {
  let cert: X509Certificate;
  try {
    const data = typeof input === 'string' && !input.includes('-----BEGIN') ? Buffer.from(stripWhitespace(input), 'base64') : input;
    cert = new X509Certificate(typeof data === 'string' ? data : Buffer.from(data));
  } catch (e) {
    throw new KeyError('bad-key', `cannot read X.509 certificate: ${(e as Error).message}`);
  }
  return {
    kind: keyKind(cert.publicKey),
    publicKey: cert.publicKey,
    subject: cert.subject,
    issuer: cert.issuer,
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    fingerprint256: cert.fingerprint256,
    derBase64: cert.raw.toString('base64'),
  };
}

// ---------------------------------------------------------------- OpenPGP

export interface OpenPgpImport {
  key: openpgp.PublicKey;
  /** Upper-case hex fingerprint as OpenPGP defines it (SHA-1 for v4 keys, SHA-256 for v6). */
  fingerprint: string;
  created: Date;
  /** The primary key as a node:crypto key when its algorithm maps onto ours (RSA, Ed25519). */
  kind?: KeyKind;
  publicKey?: KeyObject;
}

/** Reads an armored or binary OpenPGP public key (a private key is reduced to its public part). */
export async function importOpenPgpPublicKey(input: string | Uint8Array): Promise<OpenPgpImport> {
  let key: openpgp.Key;
  try {
    key = typeof input === 'string' ? await openpgp.readKey({ armoredKey: input }) : await openpgp.readKey({ binaryKey: input });
  } catch (e) {
    throw new KeyError('bad-key', `cannot read OpenPGP key: ${(e as Error).message}`);
  }
  const pub = key.isPrivate() ? key.toPublic() : (key as openpgp.PublicKey);
  const out: OpenPgpImport = { key: pub, fingerprint: pub.getFingerprint().toUpperCase(), created: pub.getCreationTime() };
  const converted = openPgpToNodeKey(pub);
  if (converted) Object.assign(out, converted);
  return out;
}

/** The primary key's public parameters as a node:crypto KeyObject, where the formats allow it. */
export function openPgpToNodeKey(key: openpgp.Key): { kind: KeyKind; publicKey: KeyObject } | undefined {
  const packet = key.keyPacket;
  const params = packet.publicParams as Record<string, unknown>;
  const algo = packet.algorithm as number;
  const E = openpgp.enums.publicKey;
  if (algo === E.rsaEncryptSign || algo === E.rsaSign || algo === E.rsaEncrypt) {
    const n = params.n as Uint8Array, e = params.e as Uint8Array;
    return { kind: 'rsa', publicKey: rsaPublicKeyFromComponents({ modulus: bytesToBigint(n), publicExponent: bytesToBigint(e) }) };
  }
  if (algo === E.ed25519) return { kind: 'ed25519', publicKey: ed25519FromRaw(params.A as Uint8Array) };
  if (algo === E.eddsaLegacy) {
    // RFC 4880bis EdDSA: Q is 0x40 followed by the 32-byte native public key.
    const q = params.Q as Uint8Array;
    if (q.length === 33 && q[0] === 0x40) return { kind: 'ed25519', publicKey: ed25519FromRaw(q.subarray(1)) };
  }
  return undefined;
}

export function ed25519FromRaw(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new KeyError('bad-key', 'Ed25519 public key must be 32 bytes');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' });
}
