// Passphrase-encrypted private keys: PKCS#8 EncryptedPrivateKeyInfo, PBES2 with scrypt (RFC 7914 §7) and
// AES-256-CBC, the form `openssl pkcs8 -topk8 -scrypt` writes, so openssl and node:crypto read our files and we
// read theirs. We encode it ourselves because node's own `export({ cipher, passphrase })` always derives the
// key with PBKDF2 at 2048 iterations, which is cheap to brute-force.
import { createCipheriv, createPrivateKey, randomBytes, scrypt, scryptSync, type KeyObject } from 'node:crypto';
import { KeyError } from './errors.ts';

export interface ScryptParams {
  /** CPU/memory cost. OpenSSL refuses to decrypt above 32 MiB (128·r·N), so 2^14 is the most it reads at r = 8. */
  N: number;
  r: number;
  /** Parallelisation: multiplies the work without the memory, so it is where extra cost goes. */
  p: number;
}

/** 16 MiB and four times OpenSSL's default work: about 0.2 s per unlock on a laptop core. */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 14, r: 8, p: 4 };

const PEM_ENCRYPTED = /-----BEGIN ENCRYPTED PRIVATE KEY-----/;
/** A traditional OpenSSL PEM (PKCS#1 / SEC1) encrypted with a Proc-Type header. */
const PEM_LEGACY_ENCRYPTED = /Proc-Type:\s*4,ENCRYPTED/;

/** Whether a private key PEM needs a passphrase. */
export function isEncryptedPem(pem: string): boolean {
  return PEM_ENCRYPTED.test(pem) || PEM_LEGACY_ENCRYPTED.test(pem);
}

/** Encrypts `key` under `passphrase`; the result is an "ENCRYPTED PRIVATE KEY" PEM. */
export async function encryptPrivateKey(key: KeyObject, passphrase: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(16);
  const derived = await new Promise<Buffer>((resolve, reject) =>
    scrypt(passphrase.normalize('NFC'), salt, 32, scryptOptions(params), (err, k) => (err ? reject(err) : resolve(k))),
  );
  return encode(key, salt, derived, params);
}

/** The same, blocking (for the synchronous exportPrivatePem). */
export function encryptPrivateKeySync(key: KeyObject, passphrase: string, params: ScryptParams = DEFAULT_SCRYPT): string {
  const salt = randomBytes(16);
  return encode(key, salt, scryptSync(passphrase.normalize('NFC'), salt, 32, scryptOptions(params)), params);
}

/**
 * Reads a private key PEM, plain or encrypted (any PBES2 form OpenSSL reads, and traditional encrypted PEM).
 * A wrong passphrase is 'bad-passphrase', a missing one 'passphrase-required'.
 */
export function decryptPrivateKey(pem: string, passphrase: string | undefined, what = 'the private key'): KeyObject {
  const encrypted = isEncryptedPem(pem);
  if (encrypted && passphrase === undefined) throw new KeyError('passphrase-required', `${what} is protected by a passphrase; none was given`);
  try {
    const key = createPrivateKey(encrypted ? { key: pem, format: 'pem', passphrase: passphrase!.normalize('NFC') } : { key: pem, format: 'pem' });
    if (key.type !== 'private') throw new Error('not a private key');
    return key;
  } catch (e) {
    // OpenSSL cannot tell a wrong passphrase from a damaged file: both decrypt to bytes that fail the padding or
    // DER check. With the PEM structure intact, the passphrase is the likely cause.
    if (encrypted) throw new KeyError('bad-passphrase', `wrong passphrase for ${what}`);
    throw new KeyError('bad-key', `cannot read ${what}: ${(e as Error).message}`);
  }
}

function scryptOptions(p: ScryptParams) {
  return { N: p.N, r: p.r, p: p.p, maxmem: 256 * p.r * (p.N + p.p + 2) };
}

function encode(key: KeyObject, salt: Buffer, derived: Buffer, params: ScryptParams): string {
  if (key.type !== 'private') throw new KeyError('bad-key', 'not a private key');
  const iv = randomBytes(16);
  const plain = key.export({ type: 'pkcs8', format: 'der' });
  const cipher = createCipheriv('aes-256-cbc', derived, iv);
  const encrypted = Buffer.concat([cipher.update(plain), cipher.final()]);
  const der = seq(
    seq(
      OID_PBES2,
      seq(
        seq(OID_SCRYPT, seq(tlv(0x04, salt), int(params.N), int(params.r), int(params.p))),
        seq(OID_AES256_CBC, tlv(0x04, iv)),
      ),
    ),
    tlv(0x04, encrypted),
  );
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ENCRYPTED PRIVATE KEY-----\n${b64}\n-----END ENCRYPTED PRIVATE KEY-----\n`;
}

// ---------------------------------------------------------------- the few DER shapes needed

const OID_PBES2 = oid('2a864886f70d01050d'); // 1.2.840.113549.1.5.13
const OID_SCRYPT = oid('2b06010401da47040b'); // 1.3.6.1.4.1.11591.4.11
const OID_AES256_CBC = oid('60864801650304012a'); // 2.16.840.1.101.3.4.1.42

function oid(hex: string): Buffer {
  return tlv(0x06, Buffer.from(hex, 'hex'));
}

function tlv(tag: number, body: Buffer): Buffer {
  const n = body.length;
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}

function seq(...parts: Buffer[]): Buffer {
  return tlv(0x30, Buffer.concat(parts));
}

/** A non-negative INTEGER, minimal big-endian with a leading zero when the high bit is set. */
function int(n: number): Buffer {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let b = Buffer.from(hex, 'hex');
  if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}
