// slixmpp 1.8.3 (Debian's python3-slixmpp, for /usr/bin/python3) as a peer: a client library we did not
// write, logging in over STARTTLS. slixmpp-login.py does the login and reports what it tried.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./slixmpp-login.py', import.meta.url));

export interface SlixmppLogin {
  /** Every <auth/> sent, in order: mechanism and SCRAM's GS2 channel-binding flag ('n', 'y', 'p=TYPE'). */
  auths: { mechanism: string; cb: string | null }[];
  /** The condition of every SASL <failure/> received. */
  failures: string[];
  /** Whether the session started (authenticated and bound). */
  session: boolean;
  /** The TLS version of the stream, once the session started. */
  tls: string | null;
  error: string | null;
}

/** Logs in as `jid` to 127.0.0.1:port; `mechanism` restricts slixmpp to that one (else it picks). */
export function slixmppLogin(port: number, jid: string, password: string, mechanism = ''): Promise<SlixmppLogin> {
  return new Promise((resolve, reject) => {
    execFile('/usr/bin/python3', [SCRIPT, '127.0.0.1', String(port), jid, password, mechanism], { timeout: 60_000 }, (err, stdout, stderr) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as SlixmppLogin);
      } catch {
        reject(new Error(`slixmpp-login.py gave no result (${err?.message ?? 'no error'}): ${stdout}\n${stderr}`));
      }
    });
  });
}
