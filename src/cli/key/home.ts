// The CLI's home directory (--home, default ~/.pepkeys): our own key pairs per account and the trust store.
//   HOME/trust.db                                  contacts' keys (TrustStore on SQLite, 0600)
//   HOME/accounts/<bare jid>/keys/<hex>.key.pem    private key, PKCS#8 PEM (encrypted with a passphrase), 0600 (dir 0700)
//   HOME/accounts/<bare jid>/keys/<hex>.pubkey.xml the <pubkey/> we publish for it
//   HOME/accounts/<bare jid>/state.json            current key id, revoked ids, last publish settings
import { readFile, readdir, writeFile, rename, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import {
  TrustStore, openSqliteTrustBackend, savePrivateKey, loadPrivateKey, readPrivateKeyPem, ensurePrivateDir, parsePubkey, buildPubkey,
  pubkeyPrintId, isEncryptedPem, encryptPrivateKey, type Pubkey,
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
  /** The private key file is protected by a passphrase. */
  encrypted?: boolean;
}

export function defaultHome(env: Readonly<Record<string, string | undefined>>): string {
  return env.PEPKEYS_HOME ?? join(homedir(), '.pepkeys');
}

export class KeyHome {
  /** `passphrase` is asked for the passphrase of an encrypted private key, naming the key; only then. */
  constructor(readonly dir: string, private readonly passphrase?: (what: string) => Promise<string>) {}

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

  /** Stores a new key pair (encrypted under `passphrase` when given) and makes it current. Returns its id. */
  async addKey(bare: string, pubkey: Pubkey, privateKey: KeyObject, passphrase?: string): Promise<string> {
    const pem = passphrase === undefined ? privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() : await encryptPrivateKey(privateKey, passphrase);
    return this.storeKey(bare, pubkey, pem, { current: true });
  }

  /** Stores a key whose private part is already PEM (plain or encrypted); `current` makes it current. */
  async storeKey(bare: string, pubkey: Pubkey, pem: string, opts: { current?: boolean; revoked?: boolean } = {}): Promise<string> {
    const id = keyId(pubkey);
    const dir = this.keysDir(bare);
    await ensurePrivateDir(join(this.dir, 'accounts'));
    await ensurePrivateDir(this.accountDir(bare));
    await savePrivateKey(join(dir, `${id}.key.pem`), pem);
    await writeFile(join(dir, `${id}.pubkey.xml`), `${serialize(buildPubkey(pubkey))}\n`, { mode: 0o600 });
    const s = await this.state(bare);
    if (opts.current) s.current = id;
    if (opts.revoked && !s.revoked.includes(id)) s.revoked.push(id);
    await this.saveState(bare, s);
    return id;
  }

  /** Replaces a key's private file (a new passphrase, or none); the key itself must be the same. */
  async replacePrivatePem(bare: string, id: string, pem: string): Promise<void> {
    await savePrivateKey(this.privatePath(bare, id), pem, { overwrite: true });
  }

  /** The private key file's text as stored (encrypted or not), after the file checks. */
  privatePem(bare: string, id: string): Promise<string> {
    return readPrivateKeyPem(this.privatePath(bare, id));
  }

  private privatePath(bare: string, id: string): string {
    return join(this.keysDir(bare), `${id}.key.pem`);
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
      const pem = await readFile(join(dir, `${id}.key.pem`), 'utf8').catch(() => '');
      out.push({ id, pubkey, current: s.current === id, revoked: s.revoked.includes(id), encrypted: isEncryptedPem(pem), written });
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

  /** The private key, decrypted with the home's passphrase source when it is encrypted. */
  privateKey(bare: string, id: string): Promise<KeyObject> {
    const label = `key ${id.slice(0, 16)}… of ${bare}`;
    const ask = this.passphrase;
    return loadPrivateKey(this.privatePath(bare, id), { label, ...(ask ? { passphrase: () => ask(label) } : {}) });
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
