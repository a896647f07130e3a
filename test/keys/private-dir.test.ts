// Issue 19, finding 14: where private keys may live. A home directly inside a directory others can write to
// (a shared /tmp, sticky or not) or a directory of another user is refused, when keys are written and when
// they are read, through the SDK and through the CLI's key home.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { savePrivateKey, loadPrivateKey, KeyError } from '../../src/keys/index.ts';
import { KeyHome } from '../../src/cli/key/home.ts';
import { edPrivate } from './helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'pepkeys-dirs-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
const posix = process.platform !== 'win32';
const insecure = (e: unknown) => e instanceof KeyError && e.code === 'insecure-file';

function shared(name: string, mode: number): string {
  const dir = join(root, name);
  mkdirSync(dir);
  chmodSync(dir, mode);
  return dir;
}

test('a key home created inside a world-writable directory is refused, sticky or not', { skip: !posix }, async () => {
  for (const [name, mode] of [['sticky', 0o1777], ['open', 0o777], ['group', 0o775]] as const) {
    const parent = shared(name, mode);
    await assert.rejects(savePrivateKey(join(parent, 'home', 'k.pem'), edPrivate()), insecure, name);
    await assert.rejects(savePrivateKey(join(parent, 'k.pem'), edPrivate()), insecure, name);
    await assert.rejects(new KeyHome(join(parent, 'home')).openTrust(), (e: unknown) => insecure(e) && /other users can write to/.test((e as Error).message), name);
  }
});

test('a key read from a directory others can write to is refused, though the file itself is 0600', { skip: !posix }, async () => {
  const dir = join(root, 'was-private');
  await savePrivateKey(join(dir, 'k.pem'), edPrivate());
  assert.ok(await loadPrivateKey(join(dir, 'k.pem')));
  chmodSync(dir, 0o777);
  await assert.rejects(loadPrivateKey(join(dir, 'k.pem')), insecure);
});

test('a directory or key file belonging to another user is refused', { skip: !posix || process.getuid?.() !== 0 }, async () => {
  const theirs = join(root, 'theirs');
  mkdirSync(theirs, { mode: 0o700 });
  chownSync(theirs, 65534, 65534);
  await assert.rejects(savePrivateKey(join(theirs, 'k.pem'), edPrivate()), (e: unknown) => insecure(e) && /belongs to another user/.test((e as Error).message));
  const mine = join(root, 'mine');
  await savePrivateKey(join(mine, 'k.pem'), edPrivate());
  chownSync(join(mine, 'k.pem'), 65534, 65534);
  await assert.rejects(loadPrivateKey(join(mine, 'k.pem')), insecure);
});

test('a home in a private directory is fine', { skip: !posix }, async () => {
  const home = new KeyHome(join(root, 'private', 'home'));
  const trust = await home.openTrust();
  await trust.close();
});
