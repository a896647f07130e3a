// Deterministic stand-ins for the verifiable map's VRF labels and commitments: the map builder takes them as
// parameters, so its tests need neither VRF keys nor the worker thread.
import { createHash } from 'node:crypto';
import type { MapFunctions } from '../../src/server/modules/transparency/map-builder.ts';

const sha = (...parts: string[]) => new Uint8Array(createHash('sha256').update(parts.join('\0')).digest());

export const fakeMapFunctions: MapFunctions = {
  label: (jid, node, version) => sha('label', jid, node, String(version)),
  commit: (label, value) => sha('commit', Buffer.from(label).toString('hex'), Buffer.from(value).toString('hex')),
};
