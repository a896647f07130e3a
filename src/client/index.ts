// pepkeys/client — an XMPP client on our own xml/ layer (TCP, STARTTLS, SCRAM, bind, IQs, disco, caps) and
// the XEP-0189 key operations built on it. See docs/keys.md, "Client".
export { Connection, DEFAULT_MECHANISMS, type ConnectOptions, type TlsOptions, type NegotiatedInfo } from './connection.ts';
export { XmppClient, type ClientOptions, type IqHandler, type ClientEvents } from './client.ts';
export { ClientError, IqError, type ClientErrorCode } from './errors.ts';
export { ScramSession, SCRAM_MECHANISMS, escapeUsername, type ScramHash } from './sasl-scram.ts';
export { IqTracker, parseStanzaError } from './iq.ts';
export { capsVer, capsElement, discoInfoResult, DEFAULT_CAPS_NODE, type CapsSpec } from './caps.ts';
export { discoInfo, type DiscoInfo } from './disco.ts';
export { getRoster, setRosterItem, subscribe, autoApprove, parseRosterItem, type RosterEntry, type Subscription } from './roster.ts';
export {
  publishItem, getItems, configureNode, setMembers, parsePepEvent, explainPublishError, explainRetrieveError, nodeOptionFields,
  ACCESS_MODELS, type AccessModel, type NodeOptions, type PubsubItem, type PepEvent,
} from './pubsub.ts';
export {
  KeysClient, KeyOpError, keyFeatures,
  type KeysClientOptions, type KeysClientEvents, type KeyEvent, type RevocationEvent, type AttestationEvent, type InvalidEvent,
  type KeySource, type DirectAccessPolicy, type PepSupport, type PublishOptions, type FetchResult,
} from './keys-client.ts';
export { pubkeyFeature } from './key-features.ts';
