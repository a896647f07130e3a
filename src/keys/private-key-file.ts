// Private keys on disk: PKCS#8 PEM (optionally passphrase-encrypted), file 0600 in a 0700 directory, written
// atomically. Loading refuses a file others can read, as ssh does, rather than use a possibly leaked key.
import { randomBytes, type KeyObject } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import { KeyError } from './errors.ts';
import { decryptPrivateKey, encryptPrivateKey, isEncryptedPem } from './private-key-encryption.ts';

const POSIX = process.platform !== 'win32';

export interface SavePrivateKeyOptions {
  passphrase?: string;
  /** Replace an existing file (default false: refuse to overwrite a key). */
  overwrite?: boolean;
}

export async function savePrivateKey(path: string, key: KeyObject | string, opts: SavePrivateKeyOptions = {}): Promise<void> {
  const pem = typeof key === 'string' ? key : opts.passphrase === undefined ? key.export({ type: 'pkcs8', format: 'pem' }).toString() : await encryptPrivateKey(key, opts.passphrase);
  const dir = dirname(path);
  await ensurePrivateDir(dir);
  if (!opts.overwrite) {
    const exists = await stat(path).then(() => true, () => false);
    if (exists) throw new KeyError('insecure-file', `${path} already exists; refusing to overwrite a private key`);
  }
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(pem);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await unlink(tmp).catch(() => {});
    throw e;
  }
  await fh.close();
  await rename(tmp, path);
}

/**
 * Creates `dir` 0700 when missing. An existing directory is left as it is (it may be the user's home), unless
 * others can write to it: then they could replace the key file, so we refuse.
 */
export async function ensurePrivateDir(dir: string): Promise<void> {
  const made = await mkdir(dir, { recursive: true, mode: 0o700 });
  if (!POSIX) return;
  if (made !== undefined) await chmod(dir, 0o700); // mkdir's mode is filtered by the umask; make it exact
  await checkPrivateDir(dir);
}

const octal = (mode: number) => (mode & 0o7777).toString(8);

/**
 * Like ssh's StrictModes: a directory holding private keys must be ours and writable by us alone, and so
 * must the directory it sits in. Others who can write to the parent (a shared /tmp, sticky or not) can
 * create the directory before we do or, without the sticky bit, swap it for theirs; a directory of another
 * user was made by them.
 */
async function checkPrivateDir(dir: string): Promise<void> {
  const uid = process.getuid?.();
  const st = await stat(dir);
  if (uid !== undefined && st.uid !== uid) {
    throw new KeyError('insecure-file', `${dir} belongs to another user (uid ${st.uid}); keep private keys in a directory of your own`);
  }
  if ((st.mode & 0o022) !== 0) throw new KeyError('insecure-file', `${dir} is writable by other users; keep private keys elsewhere`);
  const parent = dirname(dir);
  if (parent === dir) return;
  const p = await stat(parent);
  if ((p.mode & 0o022) !== 0) {
    throw new KeyError('insecure-file', `${dir} is inside ${parent}, which other users can write to (mode ${octal(p.mode)}); keep private keys in a directory only you can write to`);
  }
}

export interface LoadPrivateKeyOptions {
  /** Asked for only when the file is encrypted (so a prompt appears only when needed). */
  passphrase?: string | (() => Promise<string>);
  /** Names the key in errors (default: the file's path). */
  label?: string;
}

export async function loadPrivateKey(path: string, opts: LoadPrivateKeyOptions = {}): Promise<KeyObject> {
  const pem = await readPrivateKeyPem(path);
  const what = opts.label ?? `private key ${path}`;
  const passphrase = isEncryptedPem(pem) ? (typeof opts.passphrase === 'function' ? await opts.passphrase() : opts.passphrase) : undefined;
  return decryptPrivateKey(pem, passphrase, what);
}

/** The PEM text of a private key file, after the same ownership and mode checks as loading it. */
export async function readPrivateKeyPem(path: string): Promise<string> {
  if (POSIX) {
    const st = await stat(path);
    if ((st.mode & 0o077) !== 0) {
      throw new KeyError('insecure-file', `${path} is readable by others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it first`);
    }
    const uid = process.getuid?.();
    if (uid !== undefined && st.uid !== uid) throw new KeyError('insecure-file', `${path} belongs to another user (uid ${st.uid}); refusing to use it`);
    await checkPrivateDir(dirname(path));
  }
  return readFile(path, 'utf8');
}
