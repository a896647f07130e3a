// Drives a real profanity (Debian's 0.13, OMEMO and OX built in) through tmux: each instance has its own HOME
// (profanity's config, OMEMO store and debug log) and GNUPGHOME, and its own tmux server socket so parallel
// test files never see each other's sessions. The screen is read with capture-pane; the debug log (-l DEBUG)
// holds every stanza profanity SENT and RECV, which is what crossed the server.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PROFANITY_MISSING =
  'profanity or tmux is not installed: `apt-get install -y profanity tmux gnupg` (.ci/run does), or set PEPKEYS_SKIP_PROFANITY=1 to skip';

export function profanityAvailable(): boolean {
  return ['profanity', 'tmux', 'gpg'].every((cmd) => spawnSync('which', [cmd]).status === 0);
}

export class Profanity {
  readonly home: string;
  readonly gnupgHome: string;
  private readonly socket: string;

  private constructor(readonly name: string) {
    this.home = mkdtempSync(join(tmpdir(), `pepkeys-profanity-${name}-`));
    this.gnupgHome = join(this.home, '.gnupg');
    mkdirSync(this.gnupgHome, { mode: 0o700 });
    this.socket = `pepkeys-${process.pid}-${name}`;
  }

  /** Starts profanity in a detached tmux session of its own. */
  static start(name: string): Profanity {
    const p = new Profanity(name);
    p.tmux('-f', '/dev/null', 'new-session', '-d', '-s', 'main', '-x', '200', '-y', '50',
      'env', `HOME=${p.home}`, `GNUPGHOME=${p.gnupgHome}`, 'LANG=C.UTF-8', 'profanity', '-l', 'DEBUG');
    return p;
  }

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
  }

  /** Types a line and presses Enter (-l: sent literally, so nothing in it is read as a tmux key name). */
  type(line: string): void {
    this.tmux('send-keys', '-t', 'main', '-l', line);
    this.tmux('send-keys', '-t', 'main', 'Enter');
  }

  /** The visible window plus its scrollback. */
  screen(): string {
    return this.tmux('capture-pane', '-p', '-t', 'main', '-S', '-500');
  }

  /** Polls the screen until the pattern shows; returns its match. */
  async waitScreen(re: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
    return this.poll(() => this.screen().match(re), `${re} on ${this.name}'s screen`, timeoutMs, () => this.screen());
  }

  /** Types the command again every few seconds until the pattern shows (for answers that need a fetch first). */
  async retry(line: string, re: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      this.type(line);
      try {
        return await this.waitScreen(re, 3000);
      } catch (err) {
        if (Date.now() > until) throw err;
      }
    }
  }

  /** Profanity's debug log: every stanza it SENT and RECV, one per line. */
  log(): string {
    const file = join(this.home, '.local/share/profanity/logs/profanity.log');
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }

  async waitLog(re: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
    return this.poll(() => this.log().match(re), `${re} in ${this.name}'s log`, timeoutMs, () => this.log().slice(-3000));
  }

  /** The stanzas profanity received, as logged (RECV lines only). */
  received(): string[] {
    return this.log().split('\n').filter((l) => l.includes(': RECV: ')).map((l) => l.slice(l.indexOf(': RECV: ') + 8));
  }

  /** Connects to a server on loopback without TLS (tests run the server with insecure_plain_auth). */
  async connect(jid: string, password: string, port: number): Promise<void> {
    await this.waitScreen(/Welcome to Profanity|Type \/help/);
    this.type(`/connect ${jid} server 127.0.0.1 port ${port} tls disable`);
    await this.waitScreen(/Enter password:/);
    this.type(password);
    await this.waitScreen(new RegExp(`${jid.replace(/[.@]/g, '\\$&')}/\\S+ logged in successfully`));
    // profanity adds publish-options to its OMEMO publishes only once the server's disco#info has told it
    // they are supported; a command typed before that answer arrives publishes without them (its race, not
    // the server's), so wait for it as a user reading the screen would have.
    await this.waitLog(/RECV: <iq [^\n]*http:\/\/jabber\.org\/protocol\/disco#info[^\n]*pubsub#publish-options/);
  }

  /** gpg in this instance's GNUPGHOME. */
  gpg(...args: string[]): string {
    return execFileSync('gpg', ['--batch', '--yes', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], {
      encoding: 'utf8',
      env: { ...process.env, GNUPGHOME: this.gnupgHome },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  private async poll<T>(probe: () => T | null | undefined, what: string, timeoutMs: number, context: () => string): Promise<T> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const found = probe();
      if (found) return found;
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}; last seen:\n${context()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  stop(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server']);
    // gpg started an agent for this GNUPGHOME; it would outlive the test.
    spawnSync('gpgconf', ['--kill', 'gpg-agent'], { env: { ...process.env, GNUPGHOME: this.gnupgHome } });
    if (!process.env.PEPKEYS_KEEP_PROFANITY) rmSync(this.home, { recursive: true, force: true });
  }
}
