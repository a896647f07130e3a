// Issue 6's XEP-0189 story through the `pepkeys key` CLI on a three-node cluster (PostgreSQL and NATS started
// here): Juliet on node 1, Romeo on node 2, the Nurse on node 3. Publishing, fetching, rotation and
// revocation watched live across nodes, and the Nurse refused.
import { describe, before, after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterAvailability, startClusterEnv, type ClusterEnv } from '../helpers/cluster.ts';
import { befriend } from '../helpers/roster-setup.ts';
import { keyStory, type StoryEnv } from '../helpers/key-story.ts';

const users = { juliet: 'juliet@capulet.lit', romeo: 'romeo@montague.lit', nurse: 'nurse@capulet.lit' };
const passwords = { juliet: 'juliet-pw', romeo: 'romeo-pw', nurse: 'nurse-pw' };
const availability = clusterAvailability();

describe('pepkeys key: the Juliet/Romeo story on three nodes', { skip: availability === 'skip' }, () => {
  let cluster: ClusterEnv | undefined;
  let dir: string;
  let env: StoryEnv;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-cluster-key-story-'));
    cluster = await startClusterEnv({
      ids: ['n1', 'n2', 'n3'],
      hosts: ['capulet.lit', 'montague.lit'],
      users: { [users.juliet]: passwords.juliet, [users.romeo]: passwords.romeo, [users.nurse]: passwords.nurse },
      cluster: { heartbeat_ms: 200, lease_ms: 1000 },
    });
    const [n1, , n3] = cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port, tls: { rejectUnauthorized: false } }));
    // The subscription handshakes themselves cross nodes too (Juliet's side on node 1, the contact's on its own).
    await befriend(n1!, { jid: users.juliet, password: passwords.juliet }, { jid: users.romeo, password: passwords.romeo }, ['Friends'], []);
    await befriend(n3!, { jid: users.juliet, password: passwords.juliet }, { jid: users.nurse, password: passwords.nurse }, ['Servants'], []);
    const at = (i: number) => `127.0.0.1:${cluster!.nodes[i]!.port}`;
    env = {
      server: at(0),
      servers: { juliet: at(0), romeo: at(1), nurse: at(2) },
      homes: { juliet: join(dir, 'juliet'), romeo: join(dir, 'romeo'), nurse: join(dir, 'nurse') },
      users, passwords,
      access: ['--access', 'roster', '--group', 'Friends'],
      connect: ['--insecure'],
    };
  });
  after(async () => {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  keyStory(() => env);
});
