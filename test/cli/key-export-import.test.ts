// Issue 18 (keys as gpg users expect): `key export` of one's own public key (PEM, <pubkey/>) and, with --secret,
// of the key pair as stored; `key import` in another home checks every key before storing any; --all is a
// backup of the home's keys that restores into a fresh home.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './run-cli.ts';
import { run } from '../../src/cli/program.ts';
import { KeyHome } from '../../src/cli/key/home.ts';
import { Readable } from 'node:stream';
import {
  checkPubkeyPrint, createRevocation, parsePubkey, signerFromPubkey, spkiBase64, verifyRevocation, verifierFromPubkey,
} from '../../src/keys/index.ts';
import { parseXml } from '../../src/xml/index.ts';

const JULIET = 'juliet@capulet.lit';
const NURSE = 'nurse@capulet.lit';
const clean = { PEPKEYS_KEY_PASSPHRASE: '', PEPKEYS_NEW_KEY_PASSPHRASE: '', PEPKEYS_JID: '', PEPKEYS_PASSWORD: '' };
const pass = { ...clean, PEPKEYS_KEY_PASSPHRASE: 'wherefore' };

type Listed = { fingerprint: string; status: string; encrypted: boolean; jid: string; begin: string; end: string; version: number };
async function list(home: string, jid: string): Promise<Listed[]> {
  const r = await runCli(['key', 'list', '--home', home, '--jid', jid, '--json'], { env: clean });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Listed[];
}

describe('key export and import', () => {
  let dir: string;
  let a: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-export-'));
    a = join(dir, 'a');
    // Home A: juliet has an old RSA key (revoked), a current encrypted Ed25519 key; the nurse one plain key.
    for (const args of [
      ['--type', 'rsa', '--bits', '2048', '--jid', JULIET],
      ['--type', 'ed25519', '--jid', JULIET],
      ['--type', 'ed25519', '--jid', NURSE, '--no-passphrase'],
    ]) {
      const g = await runCli(['key', 'generate', ...args, '--home', a], { env: pass });
      assert.equal(g.code, 0, g.stderr);
    }
    const home = new KeyHome(a);
    await home.markRevoked(JULIET, (await home.keys(JULIET))[0]!.id); // as `key revoke` marks it, without a server
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('exports the current public key as PEM (openssl reads it) and as the <pubkey/> published', async () => {
    const [, current] = await list(a, JULIET);
    const pem = await runCli(['key', 'export', '--home', a, '--jid', JULIET], { env: clean });
    assert.equal(pem.code, 0, pem.stderr);
    assert.match(pem.stdout, /^-----BEGIN PUBLIC KEY-----\n[\s\S]+-----END PUBLIC KEY-----\n$/);
    const viaOpenssl = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'DER'], { input: pem.stdout });
    assert.equal(viaOpenssl.toString('base64'), spkiBase64(createPublicKey(pem.stdout)));
    const xml = await runCli(['key', 'export', '--home', a, '--jid', JULIET, '--format', 'xml', '--armor'], { env: clean });
    assert.equal(xml.code, 0, xml.stderr);
    const pk = parsePubkey(parseXml(xml.stdout.trim()));
    assert.ok(checkPubkeyPrint(pk));
    assert.equal(`sha-256:${pk.form === 'ascii' ? pk.print : ''}`, current!.fingerprint);
    assert.equal(spkiBase64(createPublicKey(pem.stdout)), pk.form === 'ascii' ? pk.key : '');
  });

  it('backs up every key of the home with --secret --all and restores it into a fresh home, statuses and passphrases kept', async () => {
    const file = join(dir, 'backup.keys');
    const e = await runCli(['key', 'export', '--secret', '--all', '--home', a, '--output', file], { env: clean });
    assert.equal(e.code, 0, e.stderr);
    assert.match(e.stderr, /^wrote 3 secret keys to .*backup\.keys \(UNENCRYPTED/);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const text = readFileSync(file, 'utf8');
    assert.equal(text.match(/^pepkeys-key: /gm)!.length, 3);
    assert.equal(text.match(/BEGIN ENCRYPTED PRIVATE KEY/g)!.length, 2); // as stored: juliet's encrypted, the nurse's not
    // openssl reads the first key of the file as it is.
    execFileSync('openssl', ['pkey', '-in', file, '-passin', 'pass:wherefore', '-noout']);

    const b = join(dir, 'b');
    const wrong = await runCli(['key', 'import', file, '--home', b], { env: { ...clean, PEPKEYS_KEY_PASSPHRASE: 'wherefor' } });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /^pepkeys: wrong passphrase for imported key 1 of juliet@capulet\.lit$/m);
    assert.deepEqual(await new KeyHome(b).accounts(), [], 'nothing stored from a file that failed');

    const i = await runCli(['key', 'import', file, '--home', b, '--json'], { env: pass });
    assert.equal(i.code, 0, i.stderr);
    assert.equal(JSON.parse(i.stdout).imported.length, 3);
    for (const jid of [JULIET, NURSE]) assert.deepEqual(await list(b, jid), await list(a, jid), jid);

    // The restored private key signs, and the original public key checks the signature.
    const homeB = new KeyHome(b, async () => 'wherefore');
    const cur = (await homeB.current(JULIET))!;
    const rev = await createRevocation({ revoked: cur.pubkey, signer: signerFromPubkey(cur.pubkey, await homeB.privateKey(JULIET, cur.id)) });
    const original = (await new KeyHome(a).current(JULIET))!.pubkey;
    assert.equal((await verifyRevocation(rev, { signer: verifierFromPubkey(original) })).ok, true);

    const again = await runCli(['key', 'import', file, '--home', b], { env: pass });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, '');
    assert.equal(again.stderr.match(/^already in /gm)!.length, 3);
  });

  it('imports one key into a home whose account already has a current key as old, and says so', async () => {
    const file = join(dir, 'one.key');
    const e = await runCli(['key', 'export', '--secret', '--home', a, '--jid', JULIET, '-o', file], { env: clean });
    assert.equal(e.code, 0, e.stderr);
    const c = join(dir, 'c');
    assert.equal((await runCli(['key', 'generate', '--type', 'ed25519', '--jid', JULIET, '--home', c], { env: clean })).code, 0);
    const i = await runCli(['key', 'import', file, '--home', c], { env: pass });
    assert.equal(i.code, 0, i.stderr);
    assert.match(i.stdout, /^FINGERPRINT +TYPE/);
    assert.match(i.stderr, /juliet@capulet\.lit already has a current key in this home; the imported current key [0-9a-f]{16}… is listed as old/);
    const imported = (await list(a, JULIET)).find((k) => k.status === 'current')!.fingerprint;
    assert.deepEqual((await list(c, JULIET)).map((k) => [k.fingerprint === imported, k.status]).sort(), [[false, 'current'], [true, 'old']]);
  });

  it('refuses a private key that does not belong to its <pubkey/>, and a key type it cannot publish', async () => {
    const e = await runCli(['key', 'export', '--secret', '--home', a, '--jid', NURSE], { env: clean });
    assert.equal(e.code, 0, e.stderr);
    const other = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const swapped = e.stdout.replace(/-----BEGIN PRIVATE KEY-----[\s\S]+-----END PRIVATE KEY-----\n/, other);
    const f1 = join(dir, 'swapped.key');
    writeFileSync(f1, swapped);
    const r1 = await runCli(['key', 'import', f1, '--home', join(dir, 'd')], { env: clean });
    assert.equal(r1.code, 1);
    assert.match(r1.stderr, /^pepkeys: imported key 1 of nurse@capulet\.lit: the private key does not belong to the <pubkey\/> exported with it$/m);

    const f2 = join(dir, 'ec.pem');
    writeFileSync(f2, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const r2 = await runCli(['key', 'import', f2, '--home', join(dir, 'd'), '--jid', NURSE], { env: clean });
    assert.equal(r2.code, 1);
    assert.match(r2.stderr, /unsupported key type ec/);
    assert.deepEqual(await new KeyHome(join(dir, 'd')).accounts(), []);
  });

  it("imports a PEM private key made elsewhere (openssl's encrypted PKCS#8) with --jid, as generate would", async () => {
    const plain = join(dir, 'plain.pem');
    writeFileSync(plain, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }), { mode: 0o600 });
    const enc = join(dir, 'openssl.pem');
    execFileSync('openssl', ['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-in', plain, '-out', enc, '-passout', 'pass:wherefore']);
    const home = join(dir, 'e');
    const noJid = await runCli(['key', 'import', enc, '--home', home], { env: pass });
    assert.equal(noJid.code, 1);
    assert.match(noJid.stderr, /is a bare PEM private key: give --jid/);
    const i = await runCli(['key', 'import', enc, '--home', home, '--jid', JULIET, '--json'], { env: pass });
    assert.equal(i.code, 0, i.stderr);
    const [k] = JSON.parse(i.stdout).imported;
    assert.equal(k.type, 'rsa-2048');
    assert.equal(k.version, 2);
    assert.equal(k.status, 'current');
    assert.equal(k.encrypted, true);
    // A plain PKCS#1 key is stored as PKCS#8.
    const p = await runCli(['key', 'import', plain, '--home', join(dir, 'f'), '--jid', JULIET], { env: clean });
    assert.equal(p.code, 0, p.stderr);
    assert.equal((await list(join(dir, 'f'), JULIET))[0]!.encrypted, false);
  });

  it('will not print an unencrypted private key on a terminal without --force, nor overwrite a file', async () => {
    let stdout = '';
    let stderr = '';
    const io = {
      stdout: { write: (s: string) => (stdout += s, true), isTTY: true },
      stderr: { write: (s: string) => (stderr += s, true) },
      stdin: Readable.from([]),
      env: { ...process.env, ...clean },
      onSignal: () => () => {},
    };
    const code = await run(['node', 'pepkeys', 'key', 'export', '--secret', '--home', a, '--jid', NURSE], io);
    assert.equal(code, 1);
    assert.match(stderr, /refusing to print an unencrypted private key on the terminal; use --output FILE, a pipe, or --force/);
    assert.equal(stdout, '');
    assert.equal(await run(['node', 'pepkeys', 'key', 'export', '--secret', '--home', a, '--jid', NURSE, '--force'], io), 0);
    assert.match(stdout, /BEGIN PRIVATE KEY/);
    // An encrypted key may be shown.
    stdout = '';
    assert.equal(await run(['node', 'pepkeys', 'key', 'export', '--secret', '--home', a, '--jid', JULIET], io), 0);
    assert.match(stdout, /BEGIN ENCRYPTED PRIVATE KEY/);

    const file = join(dir, 'exists.key');
    writeFileSync(file, 'something\n', { mode: 0o644 });
    const r = await runCli(['key', 'export', '--secret', '--home', a, '--jid', JULIET, '-o', file], { env: clean });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /exists; give --force to overwrite it/);
    assert.equal((await runCli(['key', 'export', '--secret', '--home', a, '--jid', JULIET, '-o', file, '--force'], { env: clean })).code, 0);
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });
});
