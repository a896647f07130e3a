// pepkeys/client — an XMPP client on our own xml/ layer (TCP, STARTTLS, SCRAM, bind, IQs, disco, caps) and
// the XEP-0189 key operations built on it. See docs/keys.md, "Client".
export { Connection, DEFAULT_MECHANISMS, type ConnectOptions, type TlsOptions, type NegotiatedInfo } from './connection.ts';
export { XmppClient, type ClientOptions, type IqHandler, type ClientEvents } from './client.ts';
export { ClientError, IqError, KeyOpError, type ClientErrorCode, type KeyOpErrorCode, type KeyOpErrorKind, type KeyProblem } from './errors.ts';
export { KEY_OP_ERROR_KINDS } from './error-codes.ts';
export { ScramSession, SCRAM_MECHANISMS, escapeUsername, type ScramHash } from './sasl-scram.ts';
export { IqTracker, parseStanzaError } from './iq.ts';
export { capsVer, capsElement, discoInfoResult, DEFAULT_CAPS_NODE, type CapsSpec } from './caps.ts';
export { discoInfo, type DiscoInfo } from './disco.ts';
export { getRoster, setRosterItem, subscribe, autoApprove, parseRosterItem, RosterMirror, type RosterEntry, type Subscription } from './roster.ts';
export {
  publishItem, getItems, configureNode, setMembers, parsePepEvent, nodeOptionFields,
  ACCESS_MODELS, type AccessModel, type NodeOptions, type PubsubItem, type PepEvent,
} from './pubsub.ts';
export { publishProblem, retrieveProblem } from './pubsub-problems.ts';
export { KeysClient, type KeysClientOptions } from './keys-client.ts';
export type { KeysClientEvents, KeyEvent, RevocationEvent, AttestationEvent, InvalidEvent, RefusedEvent, KeySource } from './key-events.ts';
export { KeyNotAdmitted, type KeyAdmission, type KeyOrigin, type AdmittedKind } from './key-ingest.ts';
export { ktKeyAdmission, type LogVerified } from './kt-admission.ts';
export type { DirectAccessPolicy } from './key-direct.ts';
export type { PepSupport } from './pep-support.ts';
export type { PublishOptions, OwnKeyWrite } from './key-publish.ts';
export type { FetchResult } from './key-fetch.ts';
export { pubkeyFeature, keyFeatures } from './key-features.ts';
export { fetchPublishedKeys, observePublishedKeys, type PublishedKeys, type OmemoDeviceKey, type OxPublishedKey, type PublishedKeyObservation } from './published-keys.ts';
export { OmemoDeviceWatcher, type OmemoDeviceChange, type KnownDeviceLists } from './omemo-devices.ts';
export { KtClient, type HeadUpdate, type AuditResult } from './transparency.ts';
export { KtVerifyError, type KtVerifyCode } from './kt-errors.ts';
export { followHeads, type HeadFollower } from './kt-heads-follow.ts';
export { KtAuditStateFile, type AuditCheckpoint } from './kt-audit-state.ts';
export { FileKtHeadStore, MemoryKtHeadStore, LEGACY_VRF_KEYS_FILE, type KtHeadStore } from './kt-head-store.ts';
export { KtMapClient, sameMapHead, type MapLookupResult } from './kt-map-client.ts';
export { witnessedMapHeads, mapHeadSplits, compareMapHeads, type WitnessedMapHead, type MapSplitView, type MapComparison, type UnlinkedMapHead } from './kt-map-gossip.ts';
export { keyLinks, type KeyLinks, type DomainKeys } from './kt-key-links.ts';
export {
  KT_GOSSIP_NODE, KT_GOSSIP_ITEM, buildGossip, parseGossip, publishGossip, fetchGossip, witnessed, sameSizeSplits, compareHeads,
  type WitnessedHead, type SplitView, type UnlinkedHead, type HeadComparison, type Gossip,
} from './kt-gossip.ts';
