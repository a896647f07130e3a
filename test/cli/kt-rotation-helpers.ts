// Shared by the gossip tests across a log-key rotation (issue 14): a real server of `localhost` whose log key was
// rotated before it started (`rotateLogKey`, as `kt rotate-key` does), so heads signed by the old key may still
// circulate; Juliet, Romeo and the Nurse (password pw), Romeo and the Nurse contacts of each other.
import assert from 'node:assert/strict';
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestServer, type rawSessions, type TestServer } from '../helpers/server.ts';
import { befriend } from '../helpers/roster-setup.ts';
import { defaultModules } from '../../src/server/modules/index.ts';
import { transparencyModule } from '../../src/server/modules/transparency/index.ts';
import { loadOrCreateLogKey } from '../../src/server/modules/transparency/log-key.ts';
import { rotateLogKey } from '../../src/server/modules/transparency/key-rotations.ts';
import { buildGossip } from '../../src/client/kt-gossip.ts';
import type { Element } from '../../src/xml/index.ts';
import { runCli, type CliResult } from './run-cli.ts';

export interface RotatedDomain {
  t: TestServer;
  /** The key rotated away (its file kept as retired). */
  oldKey: KeyObject;
}

/** Starts the server on `dir`/data after rotating its key; `epochMs` as [kt] epoch_ms. */
export async function rotatedDomain(dir: string, epochMs: number): Promise<RotatedDomain> {
  const data = join(dir, 'data');
  loadOrCreateLogKey(data, 'localhost');
  const { retired } = rotateLogKey(data, 'localhost');
  const oldKey = createPrivateKey(readFileSync(retired, 'utf8'));
  const t = await startTestServer({
    users: { 'juliet@localhost': 'pw', 'romeo@localhost': 'pw', 'nurse@localhost': 'pw' },
    modules: [...defaultModules(), transparencyModule({ dataDir: data, epochMs })],
  });
  await befriend({ host: '127.0.0.1', port: t.port, tls: { rejectUnauthorized: false } }, { jid: 'romeo@localhost', password: 'pw' }, { jid: 'nurse@localhost', password: 'pw' }, [], []);
  return { t, oldKey };
}

/** `pepkeys kt ARGS` as `who`@localhost with the home `dir`/`who`. */
export const ktAs = (dir: string, t: TestServer) => (who: string, args: string[]): Promise<CliResult> =>
  runCli(['kt', ...args, '--jid', `${who}@localhost`, '--password', 'pw', '--server', `127.0.0.1:${t.port}`, '--insecure', '--home', join(dir, who)], { timeoutMs: 60_000 });

/** The Nurse replaces her gossip item with `gossip` (built by buildGossip), logged in as resource `resource`. */
export async function nursePublishes(sessions: ReturnType<typeof rawSessions>, resource: string, gossip: ReturnType<typeof buildGossip>): Promise<void> {
  const nurse = await sessions.login('nurse', resource);
  const r: Element = await nurse.iq(`<iq type='set'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:pepkeys:kt:0:gossip'><item id='current'>${gossip.toString()}</item></publish></pubsub></iq>`);
  assert.equal(r.attrs.type, 'result', r.toString());
}

/** Romeo's `kt gossip --with nurse@localhost --json`, parsed. */
export async function romeoGossipsWithNurse(kt: ReturnType<typeof ktAs>) {
  const r = await kt('romeo', ['gossip', '--with', 'nurse@localhost', '--json']);
  return { code: r.code, out: JSON.parse(r.stdout), text: r.stdout + r.stderr };
}
