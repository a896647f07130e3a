// The memory a connection can make the server hold at worst, computed from the limits (issue 19, "a memory
// budget"); docs/security.md states it, the server logs it at start and test/server/security/memory-budget
// opens connections at that worst case and checks the server stays inside it.
//
// Where a connection's memory goes, and what bounds it:
// - input: the socket is not read while parsed stanzas wait (c2s-session.ts), so what is held as parsed
//   objects is at most one read's worth of complete elements (before authentication, PREAUTH_QUEUE of them)
//   plus one unfinished element, at most max_preauth_stanza_bytes before authentication and
//   max_stanza_bytes after;
// - output: a session's unsent output is closed above output_max_bytes, and all sessions' together above
//   output_total_bytes (output the socket buffers itself, below its 16 KiB high-water mark, is not counted);
// - stanzas kept after they were sent, until the client acknowledges them (XEP-0198,
//   stream_management.max_unacked_bytes), and stanzas held back for an inactive client (XEP-0352,
//   csi.max_held_bytes): bounded per session, and counted with the unsent output toward output_total_bytes.
import type { ServerConfig } from '../../config.ts';

/**
 * Heap bytes per input byte of a parsed element tree at its worst: a stanza made of empty elements (`<a/>`)
 * measured 41 (Node 20); attributes or text cost less per byte.
 */
export const PARSED_BYTES_PER_INPUT_BYTE = 48;
/**
 * Negotiation elements a client may have waiting for an answer before authentication. SASL is lock-step
 * (one answer per element), so an honest client has one, two with an <abort/>; more close the stream.
 */
export const PREAUTH_QUEUE = 8;
/** The most one socket read delivers (libuv reads into buffers of 64 KiB). */
export const READ_BYTES = 64 * 1024;
/** Raw bytes a paused socket may still hold: the read in hand and the stream's readable buffer. */
const SOCKET_BYTES = 2 * READ_BYTES;
/** A session's own objects, parser and socket (idle sessions measure ~5 KB; rounded up for TLS). */
const SESSION_BYTES = 64 * 1024;
/** Unsent output is text; one character can take two bytes (V8 stores non-Latin-1 strings in UTF-16). */
const BYTES_PER_OUTPUT_CHAR = 2;

export interface MemoryBudget {
  /** An unauthenticated connection at its worst. */
  preauthConnection: number;
  /** An authenticated connection's input at its worst (its output is counted by `output*`). */
  authenticatedInput: number;
  /** One session's unsent output at its worst, before it is closed. */
  outputPerSession: number;
  /** All sessions' unsent output together, at most. */
  outputTotal: number;
  /** What one address can hold with unauthenticated connections (max_connections_per_ip of them). */
  preauthPerAddress: number | undefined;
  /** One session's unacknowledged stanzas at their worst (XEP-0198), when given. */
  unackedPerSession?: number;
  /** One session's stanzas held while inactive at their worst (XEP-0352), when given. */
  heldPerSession?: number;
}

/** Per-session bounds of stream-level extensions, in characters (config: stream_management, csi). */
export interface ExtensionBounds {
  unackedBytes: number;
  heldBytes: number;
}

export function memoryBudget(l: ServerConfig['limits'], ext?: ExtensionBounds): MemoryBudget {
  // Complete elements from one read (before authentication no more than PREAUTH_QUEUE of them), and one
  // unfinished element.
  const parsed = (stanza: number, complete: number) => PARSED_BYTES_PER_INPUT_BYTE * (Math.min(READ_BYTES, complete) + stanza);
  const preauthStanza = Math.min(l.max_preauth_stanza_bytes, l.max_stanza_bytes);
  const preauthConnection = SESSION_BYTES + SOCKET_BYTES + parsed(preauthStanza, PREAUTH_QUEUE * preauthStanza);
  return {
    preauthConnection,
    authenticatedInput: SESSION_BYTES + SOCKET_BYTES + parsed(l.max_stanza_bytes, READ_BYTES),
    outputPerSession: BYTES_PER_OUTPUT_CHAR * l.output_max_bytes,
    outputTotal: BYTES_PER_OUTPUT_CHAR * l.output_total_bytes,
    preauthPerAddress: l.max_connections_per_ip > 0 ? l.max_connections_per_ip * preauthConnection : undefined,
    ...(ext && { unackedPerSession: BYTES_PER_OUTPUT_CHAR * ext.unackedBytes, heldPerSession: BYTES_PER_OUTPUT_CHAR * ext.heldBytes }),
  };
}
