// The admin socket's wire format (version 1): one JSON object per line each way. A request names a command
// and its arguments; the answer carries the same id and either a result or an error with a stable code.
// Small on purpose: anything that can be said as "run command X with these arguments" fits, and a client
// of another version is told so instead of guessing.
import { join } from 'node:path';
import { z } from 'zod';

export const ADMIN_PROTOCOL_VERSION = 1;

/** The socket's file name in the data directory. */
export const ADMIN_SOCKET_FILE = 'admin.sock';

export function adminSocketPath(dataDir: string): string {
  return join(dataDir, ADMIN_SOCKET_FILE);
}

/** Longest request line accepted: arguments are JIDs, names and credentials, never bulk data. */
export const MAX_REQUEST_BYTES = 64 * 1024;

export const AdminRequestSchema = z.strictObject({
  v: z.number().int(),
  id: z.union([z.number().int(), z.string().max(64)]),
  command: z.string().min(1).max(64),
  args: z.record(z.string(), z.unknown()).default({}),
});
export type AdminRequest = z.infer<typeof AdminRequestSchema>;

export interface AdminErrorBody {
  /** Stable, for scripts: 'unknown-command', 'bad-request', 'bad-args', 'not-found', 'version', 'internal'... */
  code: string;
  /** One sentence for the operator. */
  message: string;
}

export type AdminResponse =
  | { v: number; id: number | string | null; ok: true; result: unknown }
  | { v: number; id: number | string | null; ok: false; error: AdminErrorBody };

export const AdminResponseSchema = z.union([
  z.object({ v: z.number(), id: z.union([z.number(), z.string(), z.null()]), ok: z.literal(true), result: z.unknown() }),
  z.object({ v: z.number(), id: z.union([z.number(), z.string(), z.null()]), ok: z.literal(false), error: z.object({ code: z.string(), message: z.string() }) }),
]);
