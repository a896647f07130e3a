// The competitors come from Debian's packages, installed by the harness itself when missing (issue 4):
// apt-get as root, non-interactive, with the package's own system service kept from starting (the harness
// runs its own instance on a free loopback port, with its own config and data dir).
import { execFileSync } from 'node:child_process';
import { existsSync, unlinkSync, writeFileSync } from 'node:fs';

/** The installed version of a Debian package, or undefined when it is not (fully) installed. */
export function installedVersion(pkg: string): string | undefined {
  try {
    const out = execFileSync('dpkg-query', ['-W', '-f=${Status}\t${Version}', pkg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const [status, version] = out.split('\t');
    return status === 'install ok installed' && version ? version.trim() : undefined;
  } catch {
    return undefined;
  }
}

const POLICY_RC_D = '/usr/sbin/policy-rc.d';

/** Returns the installed version of `pkg`, installing it with apt-get first when it is missing. */
export function ensureDebianPackage(pkg: string, log: (msg: string) => void): string {
  const have = installedVersion(pkg);
  if (have) return have;
  if (process.getuid?.() !== 0) throw new Error(`${pkg} is not installed, and installing it needs root: apt-get install -y ${pkg}`);
  log(`${pkg} is not installed: installing it from Debian with apt-get`);
  // invoke-rc.d asks policy-rc.d whether a package may start its service; 101 = "no" (Debian policy §9.3.3).
  const ownPolicy = !existsSync(POLICY_RC_D);
  if (ownPolicy) writeFileSync(POLICY_RC_D, '#!/bin/sh\n# written by pepkeys bench while installing a package\nexit 101\n', { mode: 0o755 });
  const apt = (args: string[]) =>
    execFileSync('apt-get', args, {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      // stdout carries the benchmark's JSON lines; apt's chatter goes to stderr.
      stdio: ['ignore', 2, 2],
      timeout: 15 * 60 * 1000,
    });
  try {
    try {
      apt(['install', '-y', '--no-install-recommends', pkg]);
    } catch {
      // Stale or missing package lists: refresh once and retry.
      apt(['update']);
      apt(['install', '-y', '--no-install-recommends', pkg]);
    }
  } finally {
    if (ownPolicy) unlinkSync(POLICY_RC_D);
  }
  const version = installedVersion(pkg);
  if (!version) throw new Error(`apt-get install ${pkg} finished but dpkg does not list it as installed`);
  return version;
}
