// Errors shared by every storage adapter, beside AccountExistsError in types.ts. Kept in their own file so
// the interfaces other modules code against stay untouched.

/** A write addressed a pubsub node that does not exist (publish, affiliation, subscription). */
export class NodeNotFoundError extends Error {
  readonly code = 'PUBSUB_NODE_NOT_FOUND';
  constructor(service: string, node: string) {
    super(`pubsub node ${node} does not exist on ${service}`);
  }
}

/** A transparency log has no complete subtree there (yet): the caller asked beyond the log's size. */
export class SubtreeNotFoundError extends Error {
  readonly code = 'KT_SUBTREE_NOT_FOUND';
  constructor(level: number, index: number) {
    super(`no complete subtree at level ${level}, index ${index}`);
  }
}

/** The storage was closed; no further operation is accepted. */
export class StorageClosedError extends Error {
  readonly code = 'STORAGE_CLOSED';
  constructor() {
    super('storage is closed');
  }
}

/** The database was written by a newer pepkeys than this one. */
export class SchemaTooNewError extends Error {
  readonly code = 'STORAGE_SCHEMA_TOO_NEW';
  constructor(found: number, known: number) {
    super(`database schema version ${found} is newer than this build supports (${known}); upgrade pepkeys`);
  }
}

/** The database file fails SQLite's integrity check, or is not a database at all. */
export class StorageCorruptError extends Error {
  readonly code = 'STORAGE_CORRUPT';
  constructor(path: string, detail: string) {
    super(`database ${path} is damaged (${detail}); restore it from a backup`);
  }
}

/** The database file is empty, but the marker beside it says this installation had created it before. */
export class StorageEmptyError extends Error {
  readonly code = 'STORAGE_EMPTY';
  constructor(path: string, marker: string, since: string) {
    super(`database ${path} is empty, but it was created on ${since}: restore it from a backup, or delete ${marker} to start with an empty server`);
  }
}
