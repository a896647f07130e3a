// A small JSON file of client state (heads, monitor state): read as {} when absent, written 0600 to a
// temporary file and renamed into place, so a crash leaves the old content or the new, never half of it.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export function readJsonFile<T>(path: string): Record<string, T> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, T>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
}

export function writeJsonFile(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(`${path}.tmp`, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}
