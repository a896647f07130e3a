// One certificate for every target under `--tls`, so the three servers do the same handshake work: a
// self-signed ECDSA P-256 certificate for localhost (what pepkeys generates on a fresh install), made with
// openssl once per harness run in a temp dir that is removed at exit.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface BenchCert {
  certPath: string;
  keyPath: string;
  /** certificate + key in one file (ejabberd's certfiles). */
  combinedPath: string;
}

let made: BenchCert | undefined;

export function benchCert(): BenchCert {
  if (made) return made;
  const dir = mkdtempSync(join(tmpdir(), 'bench-cert-'));
  chmodSync(dir, 0o755);
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
  const combinedPath = join(dir, 'combined.pem');
  writeFileSync(combinedPath, readFileSync(certPath, 'utf8') + readFileSync(keyPath, 'utf8'));
  // Prosody runs as root here, ejabberd as its own user: the files must be readable by it.
  for (const p of [certPath, keyPath, combinedPath]) chmodSync(p, 0o644);
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  made = { certPath, keyPath, combinedPath };
  return made;
}
