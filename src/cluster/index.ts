export type { ModuleSession, SessionDirectory, SessionHandle, SessionKey, SharedCodec } from './types.ts';
export { asJson, createSessionKey } from './types.ts';
export { LocalSessionDirectory } from './local.ts';
export type { BusState, ClusterBus } from './bus.ts';
export { BusNoResponders, BusTimeout } from './bus.ts';
export { LocalBusHub } from './local-bus.ts';
export { singleNode, type ClusterCoherence, type InvalidationHandler } from './coherence.ts';
export { ClusterSessionDirectory, type ClusterOptions, type ClusterStatus, type ClusterEvents } from './cluster-directory.ts';
export { RemoteSession, type SessionRecord } from './remote-session.ts';
