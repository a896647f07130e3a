// Records the contract parts build their tests from.
import type { AccountCredentials, PubsubItemRecord } from '../../src/storage/types.ts';

export function credentials(seed: string): AccountCredentials {
  const one = (hash: string) => ({
    salt: Buffer.from(`salt-${seed}-${hash}`).toString('base64'),
    iterations: 4096,
    storedKey: Buffer.from(`stored-${seed}-${hash}`).toString('base64'),
    serverKey: Buffer.from(`server-${seed}-${hash}`).toString('base64'),
  });
  return { 'SHA-1': one('1'), 'SHA-256': one('256') };
}

export function item(service: string, node: string, id: string, extra: Partial<PubsubItemRecord> = {}): PubsubItemRecord {
  return {
    service,
    node,
    id,
    publisher: `${service}/res`,
    payload: `<entry xmlns="urn:test">${id}</entry>`,
    publishedAt: 1_700_000_000_000,
    ...extra,
  };
}

export const ids = (items: { id: string }[]) => items.map((i) => i.id);
