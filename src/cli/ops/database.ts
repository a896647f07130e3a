// `pepkeys check`'s storage findings: the SQLite file sound and not newer than this build, or the PostgreSQL
// database reachable with a schema this build can use.
import { existsSync } from 'node:fs';
import pg from 'pg';
import { storagePath, type ServerConfig } from '../../server/config.ts';
import { markerPath } from '../../storage/sqlite/integrity.ts';
import { latestSchemaVersion as latestPostgres } from '../../storage/postgres/migrations.ts';
import { describeError } from '../errors.ts';
import { verifySqliteFile } from './sqlite-file.ts';
import { checkKtFile } from './kt-file-check.ts';
import { error, ok, type Finding } from './findings.ts';

const S = 'database';

export async function checkDatabase(config: ServerConfig): Promise<Finding[]> {
  return config.storage.driver === 'postgres' ? [await checkPostgres(config.storage.url!)] : checkSqlite(storagePath(config));
}

function checkSqlite(path: string): Finding[] {
  const main = checkMainFile(path);
  // Its transparency file (kt-file-check.ts), once the database itself is sound or not made yet.
  return main.level === 'ok' ? [main, ...checkKtFile(path)] : [main];
}

function checkMainFile(path: string): Finding {
  if (!existsSync(path)) {
    if (existsSync(markerPath(path))) {
      return error(S, `database ${path} is missing, but ${markerPath(path)} says one was created here: restore it (\`pepkeys restore FILE\`), or delete the marker to start with an empty server`);
    }
    return ok(S, `no database yet at ${path}; the server creates it at its first start`);
  }
  try {
    const v = verifySqliteFile(path);
    const upgrade = v.schemaVersion < v.latestSchemaVersion ? `, migrated to ${v.latestSchemaVersion} at the next start` : '';
    return ok(S, `database ${path} passes quick_check, schema version ${v.schemaVersion}${upgrade}`);
  } catch (err) {
    return error(S, describeError(err));
  }
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'storage.url';
  }
}

async function checkPostgres(url: string): Promise<Finding> {
  const where = redactUrl(url);
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000, application_name: 'pepkeys check' });
  // A connection dropped after connecting is reported by the failing query below; unhandled it would throw.
  client.on('error', () => {});
  try {
    await client.connect();
    const { rows } = await client.query<{ t: string | null }>("SELECT to_regclass('schema_migrations')::text AS t");
    if (rows[0]!.t === null) return ok(S, `PostgreSQL ${where} is reachable; no pepkeys schema yet, created at the first start`);
    const v = (await client.query<{ v: number }>('SELECT coalesce(max(version), 0)::int AS v FROM schema_migrations')).rows[0]!.v;
    if (v > latestPostgres) return error(S, `PostgreSQL ${where}: schema version ${v} is newer than this build supports (${latestPostgres}); upgrade pepkeys`);
    return ok(S, `PostgreSQL ${where} is reachable, schema version ${v}`);
  } catch (err) {
    // A host name with several addresses (localhost: ::1 and 127.0.0.1) fails as an AggregateError without a message.
    const cause = err instanceof AggregateError && err.errors.length ? err.errors[0] : err;
    return error(S, `PostgreSQL ${where} is not usable: ${describeError(cause)}: is it running, and are storage.url's host, port, user, password and database right?`);
  } finally {
    await client.end().catch(() => undefined);
  }
}
