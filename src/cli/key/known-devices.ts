// The contacts' OMEMO device lists `key watch` has seen, kept in the key home (omemo-devices.json) so that a
// device added while no watch ran is still reported as new at the next one.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KnownDeviceLists } from '../../client/index.ts';

export function knownDeviceFile(homeDir: string): KnownDeviceLists {
  const file = join(homeDir, 'omemo-devices.json');
  let lists: Record<string, number[]> = {};
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (parsed && typeof parsed === 'object') lists = parsed as Record<string, number[]>;
  } catch {
    // Absent (first watch) or unreadable: start from nothing, so every list is reported as first seen.
  }
  return {
    get: (key) => (Array.isArray(lists[key]) ? lists[key] : undefined),
    set(key, devices) {
      lists[key] = devices;
      // Written whole and renamed, so a watch killed mid-write leaves the previous file.
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(lists), { mode: 0o600 });
      renameSync(tmp, file);
    },
  };
}
