export type { ModuleSession, SessionDirectory, SessionHandle, SessionKey } from './types.ts';
export { createSessionKey } from './types.ts';
export { LocalSessionDirectory } from './local.ts';
