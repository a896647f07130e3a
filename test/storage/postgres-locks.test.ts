// StorageLocks on PostgreSQL (advisory locks on a connection of their own): two storages on one database
// stand for two cluster nodes. A held key makes the other node's acquisition run out of time; release,
// a storage closing, or its lock connection dying (as with a node killed) frees it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openPostgresStorage, type PostgresStorage } from '../../src/storage/postgres/index.ts';
import { postgresAvailability, POSTGRES_MISSING, startPostgres, type PostgresServer } from '../helpers/postgres.ts';

const availability = postgresAvailability();

describe('postgres storage locks across servers', { skip: availability === 'skip' }, () => {
  let server: PostgresServer | undefined;
  let url: string;
  const open: PostgresStorage[] = [];
  const storage = async () => {
    const s = await openPostgresStorage({ connectionString: url });
    open.push(s);
    return s;
  };

  before(async () => {
    server = await startPostgres();
    if (!server) throw new Error(POSTGRES_MISSING);
    url = await server.createDatabase();
  });

  after(async () => {
    for (const s of open) await s.close();
    await server?.stop();
  });

  it('lets one server hold a key at a time, and not block other keys', async () => {
    const [a, b] = [await storage(), await storage()];
    const release = await a.locks!.acquire('pair-1', 5000);
    assert.ok(release, 'a free key is taken');
    assert.equal(await b.locks!.acquire('pair-1', 200), undefined, 'a held key is not taken');
    const other = await b.locks!.acquire('pair-2', 5000);
    assert.ok(other, 'another key is free');
    await other();
    // Waiting for it: taken once a lets go.
    const waiting = b.locks!.acquire('pair-1', 30_000);
    await release();
    const taken = await waiting;
    assert.ok(taken, 'taken after the release');
    assert.equal(await a.locks!.acquire('pair-1', 200), undefined);
    await taken();
    const again = await a.locks!.acquire('pair-1', 5000);
    assert.ok(again);
    await again();
  });

  it("frees a server's keys when its lock connection dies or it closes", async () => {
    const [a, b] = [await storage(), await storage()];
    const release = await a.locks!.acquire('pair-3', 5000);
    assert.ok(release);
    // What a killed node's sessions do: end. PostgreSQL then drops every lock the session held.
    await server!.query(`SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted`, url.split('/').pop()!.split('?')[0]);
    const taken = await b.locks!.acquire('pair-3', 30_000);
    assert.ok(taken, 'taken once the holder is gone');
    await release(); // the old holder's release does nothing to b's lock
    assert.equal(await a.locks!.acquire('pair-3', 200), undefined, 'b still holds it');
    // a reconnects for its next key.
    const c = await a.locks!.acquire('pair-4', 30_000);
    assert.ok(c);
    await a.close();
    assert.ok(await b.locks!.acquire('pair-4', 30_000), 'taken once the holder closed');
  });
});
