// A remote server verifies a cluster's dialback key with whichever node its connection reaches, so every
// node must share the sasl-secret file (the dialback secret derives from it). Nodes that differ say so in
// their log as soon as they see each other; nodes that share it stay quiet.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { clusterAvailability, startClusterEnv, type ClusterEnv } from '../helpers/cluster.ts';
import { captureLogger } from '../helpers/log-capture.ts';
import { until } from '../helpers/until.ts';

const availability = clusterAvailability();
const MISMATCH = /different dialback secrets/;

describe('the dialback secret across cluster nodes', { skip: availability === 'skip' }, () => {
  const envs: ClusterEnv[] = [];
  after(async () => {
    for (const e of envs) await e.stop();
  });

  async function cluster(saslSecret: Buffer | undefined) {
    const log = captureLogger('debug');
    const env = await startClusterEnv({
      ids: ['n1', 'n2'], hosts: ['capulet.lit'], saslSecret, cluster: { heartbeat_ms: 100, lease_ms: 5000 },
      config: { s2s: { listen: ['127.0.0.1:0'] } }, logger: (id) => (id === 'n2' ? log.logger : undefined),
    });
    envs.push(env);
    return log;
  }

  it('logs an error when two nodes have different sasl-secret files', { timeout: 120_000 }, async () => {
    const log = await cluster(undefined); // each node its own random secret
    await until(() => log.lines.some((l) => l.level === 50 && MISMATCH.test(l.msg)), 'the mismatch is logged', 30_000);
  });

  it('stays quiet when they share one', { timeout: 120_000 }, async () => {
    const log = await cluster(randomBytes(32));
    await until(() => log.lines.some((l) => l.msg === 'same dialback secret as this cluster node' && l.node === 'n1'), 'n2 compared its key with n1', 30_000);
    assert.equal(log.lines.filter((l) => MISMATCH.test(l.msg)).length, 0);
  });
});
