// `pepkeys status`: what a running server is doing, from its own memory (sessions, connections, output
// waiting to be written) and its storage (size on disk, offline messages waiting).
import { existsSync, statSync } from 'node:fs';
import { storagePath } from '../config.ts';
import type { XmppServer } from '../core/server.ts';
import { packageVersion } from '../version.ts';

export interface ServerStatus {
  version: string;
  pid: number;
  uptimeSeconds: number;
  hosts: Record<string, { sessions: number; available: number; accounts: number }>;
  connections: number;
  /** Unsent output beyond socket buffers, all connections together (bytes). */
  pendingOutputBytes: number;
  storage: { driver: string; path?: string; bytes?: number };
  offlineMessages: number;
}

export async function serverStatus(server: XmppServer): Promise<ServerStatus> {
  const hosts: ServerStatus['hosts'] = {};
  for (const h of server.hosts) hosts[h] = { sessions: 0, available: 0, accounts: 0 };
  for (const s of server.sessions.all()) {
    const h = hosts[s.jid.domain];
    if (!h) continue;
    h.sessions++;
    if (s.available) h.available++;
  }
  // Offline queues: one count per account, which is fine for an operator's command on a small server.
  let offlineMessages = 0;
  for (const jid of await server.storage.accounts.list()) {
    const h = hosts[jid.slice(jid.lastIndexOf('@') + 1)];
    if (h) h.accounts++;
    offlineMessages += await server.storage.offline.count(jid);
  }
  const stats = server.connectionStats();
  return {
    version: packageVersion(),
    pid: process.pid,
    uptimeSeconds: Math.floor((Date.now() - server.startedAt) / 1000),
    hosts,
    connections: stats.connections,
    pendingOutputBytes: stats.bufferedOutput,
    storage: storageInfo(server),
    offlineMessages,
  };
}

function storageInfo(server: XmppServer): ServerStatus['storage'] {
  const driver = server.config.storage.driver;
  if (driver !== 'sqlite' || server.storage.kind === 'memory') return { driver: server.storage.kind };
  const path = storagePath(server.config);
  // The WAL holds committed pages not yet checkpointed: part of the database's size on disk.
  let bytes = 0;
  for (const f of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(f)) bytes += statSync(f).size;
  return { driver, path, bytes };
}
