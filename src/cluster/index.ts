export type { SessionDirectory, SessionHandle } from './types.ts';
export { LocalSessionDirectory } from './local.ts';
