// Issue 18 (keys as gpg users expect): `key generate --passphrase` stores the private key encrypted, every
// command that signs unlocks it the same ways (--passphrase-file, $PEPKEYS_KEY_PASSPHRASE, a prompt, piped
// stdin), a wrong or missing passphrase is one clear sentence before anything is sent, unencrypted keys keep
// working without a word, and `key passwd` changes or removes the passphrase.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { runCli, type CliResult } from './run-cli.ts';
import { run } from '../../src/cli/program.ts';
import type { CliIo } from '../../src/cli/io.ts';

const JULIET = 'juliet@capulet.lit';
const ROMEO = 'romeo@montague.lit';
// No passphrase or account from the developer's own environment.
const clean = { PEPKEYS_KEY_PASSPHRASE: '', PEPKEYS_NEW_KEY_PASSPHRASE: '', PEPKEYS_JID: '', PEPKEYS_PASSWORD: '' };

function keyFiles(home: string, bare: string): string[] {
  const dir = join(home, 'accounts', bare, 'keys');
  return readdirSync(dir).filter((f) => f.endsWith('.key.pem')).map((f) => readFileSync(join(dir, f), 'utf8'));
}

const listJson = async (home: string, env: Record<string, string> = clean) => {
  const r = await runCli(['key', 'list', '--home', home, '--json'], { env });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { fingerprint: string; status: string; encrypted: boolean }[];
};

/**
 * Runs the CLI in-process with stdin as a terminal: each prompt written to stderr ("...: ") is answered with the
 * next of `answers`, typed as a person would (characters, then Enter).
 */
async function runOnTerminal(args: string[], answers: string[], env: Record<string, string> = clean): Promise<CliResult & { prompts: string[] }> {
  let stdout = '';
  let stderr = '';
  const prompts: string[] = [];
  const stdin = Object.assign(new PassThrough(), { isTTY: true, isRaw: false, setRawMode(this: PassThrough) { return this; } });
  const io: CliIo = {
    stdout: { write: (s: string) => (stdout += s, true) },
    stderr: {
      write: (s: string) => {
        stderr += s;
        if (/: $/.test(s)) {
          prompts.push(s);
          const a = answers.shift();
          setImmediate(() => (a === undefined ? stdin.write('\u0003') : stdin.write(`${a}\r`)));
        }
        return true;
      },
    },
    stdin,
    env: { ...process.env, ...env },
    onSignal: () => () => {},
  };
  const code = await run(['node', 'pepkeys', ...args], io);
  return { code, signal: null, stdout, stderr, prompts };
}

describe('key passphrases', () => {
  let t: TestServer;
  let dir: string;
  const homes = { juliet: '', romeo: '' };
  let conn: string[];
  let romeoPrint = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-passphrase-'));
    homes.juliet = join(dir, 'juliet');
    homes.romeo = join(dir, 'romeo');
    t = await startTestServer({ hosts: ['capulet.lit', 'montague.lit'], insecure: false, users: { [JULIET]: 'juliet-pw', [ROMEO]: 'romeo-pw' } });
    conn = ['--server', `127.0.0.1:${t.port}`, '--insecure'];
  });
  after(async () => {
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('generate --passphrase encrypts the private key with the passphrase piped in', async () => {
    const g = await runCli(['key', 'generate', '--type', 'ed25519', '--jid', JULIET, '--home', homes.juliet, '--passphrase', '--json'], { input: 'balcony at midnight\n', env: clean });
    assert.equal(g.code, 0, g.stderr);
    assert.equal(JSON.parse(g.stdout).encrypted, true);
    const [pem] = keyFiles(homes.juliet, JULIET);
    assert.match(pem!, /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    assert.deepEqual((await listJson(homes.juliet)).map((k) => k.encrypted), [true]);
  });

  it('a script that gives no passphrase keeps an unencrypted key; --passphrase without one is an error that says how', async () => {
    const home = join(dir, 'plain');
    const g = await runCli(['key', 'generate', '--type', 'ed25519', '--jid', JULIET, '--home', home], { env: clean });
    assert.equal(g.code, 0, g.stderr);
    assert.match(keyFiles(home, JULIET)[0]!, /^-----BEGIN PRIVATE KEY-----/);
    const none = await runCli(['key', 'generate', '--type', 'ed25519', '--jid', JULIET, '--home', home, '--passphrase'], { env: clean });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^pepkeys: empty passphrase: stdin is not a terminal and gave no line; set \$PEPKEYS_KEY_PASSPHRASE, give --passphrase-file FILE/);
  });

  it('$PEPKEYS_KEY_PASSPHRASE encrypts without the flag, and --no-passphrase overrides it', async () => {
    const home = join(dir, 'env');
    const env = { ...clean, PEPKEYS_KEY_PASSPHRASE: 'from-env' };
    assert.equal((await runCli(['key', 'generate', '--type', 'ed25519', '--jid', JULIET, '--home', home], { env })).code, 0);
    assert.equal((await runCli(['key', 'generate', '--type', 'ed25519', '--jid', JULIET, '--home', home, '--no-passphrase'], { env })).code, 0);
    assert.deepEqual((await listJson(home)).map((k) => k.encrypted), [true, false]);
  });

  it('on a terminal, generate asks twice (empty for none) and refuses two different answers', async () => {
    const home = join(dir, 'tty');
    const r = await runOnTerminal(['key', 'generate', '--type', 'ed25519', '--jid', JULIET, '--home', home], ['typed secret', 'typed secret']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.prompts, [`Passphrase to protect the new key of ${JULIET} (empty for none): `, 'Retype passphrase: ']);
    const empty = await runOnTerminal(['key', 'generate', '--type', 'ed25519', '--jid', JULIET, '--home', home], ['']);
    assert.equal(empty.code, 0, empty.stderr);
    assert.deepEqual((await listJson(home)).map((k) => k.encrypted), [true, false]);
    const typo = await runOnTerminal(['key', 'generate', '--type', 'ed25519', '--jid', JULIET, '--home', home, '--passphrase'], ['one', 'two']);
    assert.equal(typo.code, 1);
    assert.match(typo.stderr, /pepkeys: passphrases do not match/);
    assert.equal((await listJson(home)).length, 2, 'no key stored');
    const interrupted = await runOnTerminal(['key', 'generate', '--type', 'ed25519', '--jid', JULIET, '--home', home], []); // Ctrl-C
    assert.equal(interrupted.code, 130);
    assert.equal((await listJson(home)).length, 2, 'no key stored');
  });

  it('publish needs no passphrase; romeo publishes an unencrypted key and juliet fetches it', async () => {
    const p = await runCli(['key', 'publish', '--access', 'open', '--jid', JULIET, '--home', homes.juliet, ...conn], { env: { ...clean, PEPKEYS_PASSWORD: 'juliet-pw' } });
    assert.equal(p.code, 0, p.stderr);
    assert.equal((await runCli(['key', 'generate', '--type', 'ed25519', '--jid', ROMEO, '--home', homes.romeo], { env: clean })).code, 0);
    const rp = await runCli(['key', 'publish', '--access', 'open', '--jid', ROMEO, '--home', homes.romeo, ...conn], { env: { ...clean, PEPKEYS_PASSWORD: 'romeo-pw' } });
    assert.equal(rp.code, 0, rp.stderr);
    const f = await runCli(['key', 'fetch', ROMEO, '--jid', JULIET, '--home', homes.juliet, ...conn, '--json'], { env: { ...clean, PEPKEYS_PASSWORD: 'juliet-pw' } });
    assert.equal(f.code, 0, f.stderr);
    romeoPrint = JSON.parse(f.stdout).keys[0].key.fingerprint;
  });

  it('attest with a wrong or missing passphrase stops with one sentence before logging in', async () => {
    const attest = ['key', 'attest', ROMEO, romeoPrint, '--jid', JULIET, '--home', homes.juliet, ...conn];
    const wrong = await runCli(attest, { env: { ...clean, PEPKEYS_PASSWORD: 'juliet-pw', PEPKEYS_KEY_PASSPHRASE: 'balcony at noon' } });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /^pepkeys: wrong passphrase for key [0-9a-f]{16}… of juliet@capulet\.lit\n$/m);
    const missing = await runCli(attest, { env: { ...clean, PEPKEYS_PASSWORD: 'juliet-pw' } });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^pepkeys: empty passphrase: stdin is not a terminal/m);
    const fileWrong = join(dir, 'wrong.txt');
    writeFileSync(fileWrong, 'nope\n');
    const viaFile = await runCli([...attest, '--passphrase-file', fileWrong], { env: { ...clean, PEPKEYS_PASSWORD: 'juliet-pw' } });
    assert.equal(viaFile.code, 1);
    assert.match(viaFile.stderr, /wrong passphrase/);
  });

  it('attest unlocks the key from --passphrase-file, and from piped stdin with the password in the environment', async () => {
    const attest = ['key', 'attest', ROMEO, romeoPrint, '--jid', JULIET, '--home', homes.juliet, ...conn];
    const file = join(dir, 'pass.txt');
    writeFileSync(file, 'balcony at midnight\n', { mode: 0o600 });
    const a = await runCli([...attest, '--passphrase-file', file], { env: { ...clean, PEPKEYS_PASSWORD: 'juliet-pw' } });
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /^attested romeo@montague\.lit's key/);
    const b = await runCli(attest, { input: 'balcony at midnight\n', env: { ...clean, PEPKEYS_PASSWORD: 'juliet-pw' } });
    assert.equal(b.code, 0, b.stderr);
    // Both secrets wanted from one piped stdin: the second is missing, and the message says so.
    const both = await runCli(attest, { input: 'balcony at midnight\njuliet-pw\n', env: clean });
    assert.equal(both.code, 1);
    assert.match(both.stderr, /empty password: stdin is not a terminal and gave no line/);
  });

  it('on a terminal, the signing command asks for the passphrase, naming the key', async () => {
    const r = await runOnTerminal(['key', 'attest', ROMEO, romeoPrint, '--jid', JULIET, '--home', homes.juliet, ...conn], ['balcony at midnight', 'juliet-pw']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.prompts[0]!, /^Passphrase for key [0-9a-f]{16}… of juliet@capulet\.lit: $/);
    assert.equal(r.prompts[1], `Password for ${JULIET}: `);
  });

  it('revoke unlocks the key from $PEPKEYS_KEY_PASSPHRASE; an unencrypted key asks nothing', async () => {
    const [own] = await listJson(homes.juliet);
    const r = await runCli(['key', 'revoke', own!.fingerprint, '--jid', JULIET, '--home', homes.juliet, ...conn], { env: { ...clean, PEPKEYS_PASSWORD: 'juliet-pw', PEPKEYS_KEY_PASSPHRASE: 'balcony at midnight' } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^revoked key sha-256:/);
    const [romeoKey] = await listJson(homes.romeo);
    const plain = await runOnTerminal(['key', 'revoke', romeoKey!.fingerprint, '--jid', ROMEO, '--home', homes.romeo, ...conn], ['romeo-pw']);
    assert.equal(plain.code, 0, plain.stderr);
    assert.deepEqual(plain.prompts, [`Password for ${ROMEO}: `]);
  });

  it('key passwd changes the passphrase of every key, removes it, and changes nothing on a wrong one', async () => {
    const home = join(dir, 'passwd');
    const env = { ...clean, PEPKEYS_KEY_PASSPHRASE: 'old' };
    for (let i = 0; i < 2; i++) assert.equal((await runCli(['key', 'generate', '--type', 'ed25519', '--jid', JULIET, '--home', home], { env })).code, 0);
    const before = keyFiles(home, JULIET);
    const newFile = join(dir, 'new.txt');
    writeFileSync(newFile, 'new\n');
    const wrong = await runCli(['key', 'passwd', '--home', home, '--new-passphrase-file', newFile], { env: { ...clean, PEPKEYS_KEY_PASSPHRASE: 'olde' } });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /wrong passphrase/);
    assert.deepEqual(keyFiles(home, JULIET), before);

    const change = await runCli(['key', 'passwd', '--home', home, '--new-passphrase-file', newFile], { env });
    assert.equal(change.code, 0, change.stderr);
    assert.match(change.stdout, /^set a new passphrase on 2 keys [0-9a-f]{16}…, [0-9a-f]{16}… of juliet@capulet\.lit/);
    const export1 = await runCli(['key', 'export', '--secret', '--home', home, '--all', '--force'], { env });
    assert.equal(export1.code, 0, export1.stderr); // export copies the files as stored: no passphrase needed
    const oldNoLonger = await runCli(['key', 'passwd', '--home', home, '--remove'], { env });
    assert.equal(oldNoLonger.code, 1);
    const remove = await runCli(['key', 'passwd', '--home', home, '--remove', '--json'], { env: { ...clean, PEPKEYS_KEY_PASSPHRASE: 'new' } });
    assert.equal(remove.code, 0, remove.stderr);
    assert.equal(JSON.parse(remove.stdout).encrypted, false);
    for (const pem of keyFiles(home, JULIET)) assert.match(pem, /^-----BEGIN PRIVATE KEY-----/);
    // And back to encrypted, asked twice on a terminal.
    const set = await runOnTerminal(['key', 'passwd', '--home', home], ['again', 'again']);
    assert.equal(set.code, 0, set.stderr);
    assert.deepEqual(set.prompts, [`New passphrase for the 2 keys of ${JULIET}: `, 'Retype passphrase: ']);
    assert.deepEqual((await listJson(home)).map((k) => k.encrypted), [true, true]);
  });
});
