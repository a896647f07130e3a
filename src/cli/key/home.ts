// The CLI's home directory (--home, default ~/.pepkeys): our own key pairs per account and the trust store.
//   HOME/trust.db                                  contacts' keys (TrustStore on SQLite, 0600)
//   HOME/accounts/<bare jid>/keys/<hex>.key.pem    private key, PKCS#8 PEM, 0600 (dir 0700)
//   HOME/accounts/<bare jid>/keys/<hex>.pubkey.xml the <pubkey/> we publish for it
//   HOME/accounts/<bare jid>/state.json            current key id, revoked ids, last publish settings
import { readFile, readdir, writeFile, rename, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import {
  TrustStore, openSqliteTrustBackend, savePrivateKey, loadPrivateKey, ensurePrivateDir, parsePubkey, buildPubkey,
  pubkeyPrintId, type Pubkey,
} from '../../keys/index.ts';
import { parseXml, serialize } from '../../xml/index.ts';
import type { AccessModel } from '../../client/index.ts';

export interface PublishSettings {
  access: AccessModel;
  groups?: string[];
  allow?: string[];
}

export interface AccountState {
  current?: string;
  revoked: string[];
  publish?: PublishSettings;
}

export interface OwnKey {
  id: string;
  pubkey: Pubkey;
  current: boolean;
  revoked: boolean;
}

export function defaultHome(env: Readonly<Record<string, string | undefined>>): string {
  return env.PEPKEYS_HOME ?? join(homedir(), '.pepkeys');
}

export class KeyHome {
  /** `passphrase` decrypts the private keys (PEPKEYS_KEY_PASSPHRASE), when they are encrypted. */
  constructor(readonly dir: string, private readonly passphrase?: string) {}

  async openTrust(): Promise<TrustStore> {
    await ensurePrivateDir(this.dir);
    return new TrustStore(openSqliteTrustBackend(join(this.dir, 'trust.db')));
  }

  private accountDir(bare: string): string {
    return join(this.dir, 'accounts', bare);
  }

  private keysDir(bare: string): string {
    return join(this.accountDir(bare), 'keys');
  }

  async state(bare: string): Promise<AccountState> {
    const p = join(this.accountDir(bare), 'state.json');
    if (!existsSync(p)) return { revoked: [] };
    return { revoked: [], ...(JSON.parse(await readFile(p, 'utf8')) as Partial<AccountState>) };
  }

  async saveState(bare: string, s: AccountState): Promise<void> {
    await ensurePrivateDir(this.accountDir(bare));
    const p = join(this.accountDir(bare), 'state.json');
    await writeFile(`${p}.tmp`, `${JSON.stringify(s, null, 2)}\n`, { mode: 0o600 });
    await rename(`${p}.tmp`, p);
  }

  /** Stores a new key pair and makes it current. Returns its id (the hex of its print). */
  async addKey(bare: string, pubkey: Pubkey, privateKey: KeyObject): Promise<string> {
    const id = keyId(pubkey);
    const dir = this.keysDir(bare);
    await ensurePrivateDir(join(this.dir, 'accounts'));
    await ensurePrivateDir(this.accountDir(bare));
    await savePrivateKey(join(dir, `${id}.key.pem`), privateKey);
    await writeFile(join(dir, `${id}.pubkey.xml`), `${serialize(buildPubkey(pubkey))}\n`, { mode: 0o600 });
    const s = await this.state(bare);
    s.current = id;
    await this.saveState(bare, s);
    return id;
  }

  /** The accounts this home holds keys for (bare JIDs, sorted). */
  async accounts(): Promise<string[]> {
    const dir = join(this.dir, 'accounts');
    if (!existsSync(dir)) return [];
    return (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  }

  async keys(bare: string): Promise<OwnKey[]> {
    const dir = this.keysDir(bare);
    if (!existsSync(dir)) return [];
    const s = await this.state(bare);
    const out: (OwnKey & { written: number })[] = [];
    for (const f of (await readdir(dir)).sort()) {
      if (!f.endsWith('.pubkey.xml')) continue;
      const id = f.slice(0, -'.pubkey.xml'.length);
      const pubkey = parsePubkey(parseXml(await readFile(join(dir, f), 'utf8')));
      const written = (await stat(join(dir, f))).mtimeMs;
      out.push({ id, pubkey, current: s.current === id, revoked: s.revoked.includes(id), written });
    }
    // Oldest first. `begin` has whole seconds: two keys made within one second are ordered by when their
    // files were written (not by their ids, which are hashes).
    return out
      .sort((a, b) => a.pubkey.begin.localeCompare(b.pubkey.begin) || a.written - b.written)
      .map(({ written: _, ...k }) => k);
  }

  async current(bare: string): Promise<OwnKey | undefined> {
    return (await this.keys(bare)).find((k) => k.current);
  }

  privateKey(bare: string, id: string): Promise<KeyObject> {
    return loadPrivateKey(join(this.keysDir(bare), `${id}.key.pem`), this.passphrase ? { passphrase: this.passphrase } : {});
  }

  async markRevoked(bare: string, id: string): Promise<void> {
    const s = await this.state(bare);
    if (!s.revoked.includes(id)) s.revoked.push(id);
    if (s.current === id) delete s.current;
    await this.saveState(bare, s);
  }
}

/** Our file name / short identity for a key: the hex of its print (the part after "sha-256:"). */
export function keyId(pk: Pubkey): string {
  return pubkeyPrintId(pk).split(':')[1]!;
}
