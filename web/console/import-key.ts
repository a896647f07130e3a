// Importing an existing Ed25519 private key (unencrypted PKCS#8 PEM, what `pepkeys key export --secret` writes
// for a key without a passphrase, or `openssl genpkey -algorithm ed25519`) into WebCrypto, non-extractable.
// WebCrypto cannot derive a public key from a non-extractable private one, so the PEM is imported once as
// extractable only to read its public half (JWK `x`), then imported again non-extractable; the extractable copy
// is dropped at once and never stored. When the file is a CLI export, its <pubkey/> (JID, validity, print) is
// kept if it is this key's and this account's, so the print contacts may already have verified stays the same.
import { base64ToBytes } from '../../src/protocol/base64.ts';
import { checkPubkeyPrint, parsePubkey, type Pubkey } from '../../src/keys/index.ts';
import { parseXml } from '../../src/xml/index.ts';

const ED25519 = { name: 'Ed25519' } as const;

/** The first PEM private key in the text (an export may carry a header line and a <pubkey/> around it). */
function findPem(text: string): { label: string; der: Uint8Array } {
  const m = /-----BEGIN ((?:ENCRYPTED |RSA |EC )?PRIVATE KEY)-----([\s\S]*?)-----END \1-----/.exec(text);
  if (!m) throw new Error('The file holds no PEM private key: choose the file `pepkeys key export --secret` wrote.');
  if (m[1] === 'ENCRYPTED PRIVATE KEY') {
    throw new Error('This key is protected by a passphrase: remove it with `pepkeys key passwd --remove`, export again and import that file.');
  }
  if (m[1] !== 'PRIVATE KEY') throw new Error('This is not an Ed25519 key: import an Ed25519 private key.');
  return { label: m[1], der: base64ToBytes(m[2]!.replace(/\s+/g, '')) };
}

/** The key pair of an unencrypted Ed25519 PKCS#8 PEM, with the private half non-extractable. */
export async function importEd25519Pem(text: string): Promise<CryptoKeyPair> {
  const { der } = findPem(text);
  const subtle = globalThis.crypto.subtle;
  let jwk: JsonWebKey;
  try {
    const temporary = await subtle.importKey('pkcs8', der as Uint8Array<ArrayBuffer>, ED25519, true, ['sign']);
    jwk = await subtle.exportKey('jwk', temporary);
  } catch {
    throw new Error('This is not an Ed25519 private key: import an Ed25519 key in PKCS#8 PEM form.');
  }
  const privateKey = await subtle.importKey('pkcs8', der as Uint8Array<ArrayBuffer>, ED25519, false, ['sign']);
  const publicKey = await subtle.importKey('jwk', { kty: 'OKP', crv: 'Ed25519', x: jwk.x!, ext: true }, ED25519, true, ['verify']);
  return { privateKey, publicKey };
}

/** The <pubkey/> of a `key export --secret` file, if it is the imported key's, for this account, and still valid. */
export function exportedPubkey(text: string, spki: string, jid: string, now = new Date()): Pubkey | undefined {
  const xml = /<pubkey[\s>][\s\S]*?<\/pubkey>/.exec(text)?.[0];
  if (!xml) return undefined;
  try {
    const pk = parsePubkey(parseXml(xml));
    const same = pk.form === 'ascii' && pk.key.replace(/\s+/g, '') === spki && pk.jid === jid && checkPubkeyPrint(pk);
    return same && new Date(pk.end) > now ? pk : undefined;
  } catch {
    return undefined;
  }
}
