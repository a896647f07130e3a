// pepkeys/keys — the pure (no network) XEP-0189 key SDK: payloads of every version, fingerprints, key material,
// signatures, and the client's trust store.
export { KeyError, type KeyErrorCode } from './errors.ts';
export {
  DEFAULT_HASH, digest, decodePrint, printMatches, printId, printIdOf, hashAlgo, isHashAlgo,
  type Fingerprint, type HashAlgo,
} from './hash.ts';
export {
  printInputV1, printV1, printInputV2, printV2, keyElementCanonical, keyElementPrint, trimXml, decimalString,
  type PrintFieldsV1, type PrintFieldsV2,
} from './fingerprint.ts';
export {
  generateKeyPair, keyKind, spkiBase64, publicKeyFromSpkiBase64, rsaComponents, rsaPublicKeyFromComponents,
  exportPublicPem, exportPrivatePem, importPem, importX509, importOpenPgpPublicKey, openPgpToNodeKey, ed25519FromRaw,
  stripWhitespace, wrapBase64,
  type KeyKind, type KeyPair, type RsaBits, type GenerateOptions, type ProgressEvent, type ImportedPem,
  type CertificateInfo, type OpenPgpImport, type RsaComponents,
} from './material.ts';
export { parseValidity, validityState, assertValidAt, type Validity, type ValidityState } from './validity.ts';
export {
  parsePubkey, buildPubkey, createPubkey, pubkeyFromSpki, isPubkeyRequest, buildPubkeyRequest, pubkeyVersionOf,
  pubkeyPrint, pubkeyPrintInput, pubkeyPrintBytes, pubkeyPrintAlgo, pubkeyPrintId, checkPubkeyPrint, assertPubkeyPrint,
  pubkeyPublicKey, pubkeyKeyText, pubkeyValidity, assertPubkeyUsable, buildGenerating, isGenerating,
  type Pubkey, type PubkeyAscii, type PubkeyRsa, type CreatePubkeyOptions,
} from './pubkey.ts';
export {
  nodeSigner, nodeVerifier, signerFromPubkey, verifierFromPubkey, openPgpSigner, openPgpVerifier, openPgpPrintBytes,
  readOpenPgpSignature, armorBody, unarmorBody, splitArmorBody, signatureLines,
  type SigningKey, type VerifyingKey, type SignatureKind,
} from './signing.ts';
export {
  parseRevocation, buildRevocation, revocationSignedString, createRevocation, verifyRevocation, assertRevocation,
  revokeVersionOf, type Revocation, type CreateRevocationOptions, type VerifyRevocationOptions, type VerifyOutcome,
} from './revocation.ts';
export {
  parseAttestation, buildAttestation, attestationSignedString, createAttestation, verifyAttestation, attestVersionOf,
  type Attestation, type CreateAttestationOptions, type VerifyAttestationOptions,
} from './attestation.ts';
export {
  parseKeyInfo, buildKeyInfo, keyInfoPrint, keyInfoFromPublicKey, keyInfoFromCertificate, keyInfoPublicKey,
  parsePubkeys, buildPubkeys, isLegacyPubkeysNs, selectedBy, keyInfoItem, parseTmpX509Key, buildTmpX509Key,
  type KeyInfo, type KeyValue, type RsaKeyValue, type DsaKeyValue, type OtherKeyValue, type X509Data, type PgpData, type Pubkeys,
} from './keyinfo.ts';
export {
  TrustStore, MemoryTrustBackend, observedFromPubkey, observedFromKeyInfo, observedFromOpenPgp, printIdOrUndefined,
  observedFromOmemoDevice, observedFromOxKey, keyFamily, OMEMO_PRINT_ALGO, OX_PRINT_ALGO, type KeyFamily,
  type TrustBackend, type TrustRecord, type TrustView, type TrustState, type StoredTrustState, type KeyFormat,
  type ObservedKey, type ObserveResult, type TrustEvent, type TrustStoreOptions,
} from './trust.ts';
export { SqliteTrustBackend, openSqliteTrustBackend } from './trust-store-sqlite.ts';
export { savePrivateKey, loadPrivateKey, readPrivateKeyPem, ensurePrivateDir, type SavePrivateKeyOptions, type LoadPrivateKeyOptions } from './private-key-file.ts';
export { encryptPrivateKey, encryptPrivateKeySync, decryptPrivateKey, isEncryptedPem, DEFAULT_SCRYPT, type ScryptParams } from './private-key-encryption.ts';
export {
  OMEMO_NS, omemoDeviceListNode, omemoBundleLocation, parseOmemoDeviceList, parseOmemoBundle, formatOmemoFingerprint,
  type OmemoVersion, type OmemoDevice, type OmemoBundleInfo,
} from './omemo.ts';
export { NS_OX, OX_METADATA_NODE, oxKeyNode, parseOxPublicKeysList, readOxPublicKey, formatOpenPgpFingerprint, type OxKeyMetadata } from './ox.ts';
export * from '../protocol/xep0189.ts';
export { parseDateTime, formatDateTime } from '../protocol/xep0082.ts';
