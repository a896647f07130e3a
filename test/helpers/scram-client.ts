// Client side of SCRAM (RFC 5802 / RFC 7677), written for tests: xmpp.js only speaks SCRAM-SHA-1, and the
// server's SCRAM-SHA-256 needs a peer too.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

export class ScramClient {
  readonly nonce = randomBytes(18).toString('base64');
  private clientFirstBare = '';
  private serverSignature = '';
  private readonly gs2: string;
  /** Server-first attributes, including XEP-0474's 'd' when present. */
  serverAttrs: Record<string, string> = {};

  constructor(
    private readonly hash: 'sha1' | 'sha256',
    private readonly user: string,
    private readonly password: string,
    /** Channel binding: type and data (p=), or 'y' (client could bind, thinks the server cannot), or none ('n'). */
    private readonly cb: { type: string; data: Buffer } | 'y' | undefined = undefined,
  ) {
    this.gs2 = cb === undefined ? 'n,,' : cb === 'y' ? 'y,,' : `p=${cb.type},,`;
  }

  first(): string {
    this.clientFirstBare = `n=${this.user},r=${this.nonce}`;
    return `${this.gs2}${this.clientFirstBare}`;
  }

  /** XEP-0474: the 'd' value a server offering these mechanisms and binding types must send. */
  expectedDowngradeHash(mechanisms: string[], cbTypes: string[]): string {
    return createHash(this.hash).update(`${[...mechanisms].sort().join(',')}|${[...cbTypes].sort().join(',')}`).digest('base64');
  }

  final(serverFirst: string): string {
    const attrs = Object.fromEntries(serverFirst.split(',').map((p) => [p[0], p.slice(2)]));
    this.serverAttrs = attrs as Record<string, string>;
    if (!attrs.r!.startsWith(this.nonce)) throw new Error('server nonce does not extend ours');
    const len = this.hash === 'sha1' ? 20 : 32;
    const salted = pbkdf2Sync(this.password, Buffer.from(attrs.s!, 'base64'), Number(attrs.i), len, this.hash);
    const clientKey = createHmac(this.hash, salted).update('Client Key').digest();
    const storedKey = createHash(this.hash).update(clientKey).digest();
    const cbData = this.cb && this.cb !== 'y' ? this.cb.data : Buffer.alloc(0);
    const withoutProof = `c=${Buffer.concat([Buffer.from(this.gs2), cbData]).toString('base64')},r=${attrs.r}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const sig = createHmac(this.hash, storedKey).update(authMessage).digest();
    const proof = Buffer.alloc(len);
    for (let i = 0; i < len; i++) proof[i] = clientKey[i]! ^ sig[i]!;
    const serverKey = createHmac(this.hash, salted).update('Server Key').digest();
    this.serverSignature = createHmac(this.hash, serverKey).update(authMessage).digest('base64');
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  /** Checks the server's proof of knowing the credentials (the 'v=' of server-final). */
  verify(serverFinal: string): boolean {
    return serverFinal === `v=${this.serverSignature}`;
  }
}
