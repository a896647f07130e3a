// Every failure shown to the user as one sentence that says what to do next.
import { ClientError, KeyOpError } from '../../src/client/errors.ts';

export function describeError(e: unknown): string {
  if (e instanceof ClientError) {
    switch (e.code) {
      case 'auth-failed':
        return 'The address or password is wrong: check both and log in again.';
      case 'connect-failed':
      case 'timeout':
        return 'The server cannot be reached: check that it is running and try again.';
      case 'closed':
        return 'The connection to the server was lost: log in again.';
      default:
        return `The server did not complete the request (${e.message}): try again, or log in again.`;
    }
  }
  if (e instanceof KeyOpError) return `The key could not be published (${e.message}): choose another access model or try again.`;
  if (e instanceof Error && /JID|localpart|domainpart/i.test(e.message)) return 'The address is not valid: write it as name@server.';
  const msg = e instanceof Error ? e.message : String(e);
  return /[.!?]$/.test(msg) ? msg : `${msg}: try again.`;
}
