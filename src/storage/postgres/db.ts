// Named (prepared) statements and the small query surface the stores use. node-postgres prepares a named
// statement once per connection on first use and afterwards only binds and executes it, so every hot query
// is parsed and planned once per pooled connection.
import type { QueryResult, QueryResultRow } from 'pg';

export interface Statement {
  /** Unique per text: node-postgres refuses one name with two texts on a connection. */
  readonly name: string;
  readonly text: string;
}

/** Anything that runs statements: the pool (reads) or the connection holding a write transaction. */
export interface Db {
  run<R extends QueryResultRow = any>(statement: Statement, values: unknown[]): Promise<QueryResult<R>>;
}

/** The pg objects Db wraps: Pool and PoolClient both have this query signature. */
export interface PgQueryable {
  query<R extends QueryResultRow = any>(config: { name: string; text: string; values: unknown[] }): Promise<QueryResult<R>>;
}

export function dbOf(q: PgQueryable): Db {
  return { run: (statement, values) => q.query({ name: statement.name, text: statement.text, values }) };
}

// The version is part of every name so a rolling upgrade that changes a query's text never meets an old
// preparation of the same name (each connection prepares its own, but this keeps it obvious).
export const statement = (name: string, text: string): Statement => ({ name: `pepkeys_v1_${name}`, text });

/** BIGINT columns arrive as strings (they may exceed 2^53); our values are milliseconds and counters. */
export const num = (value: string | number | null | undefined): number => Number(value ?? 0);
