// Run by kt-journal-crash.test.ts: writes key events in two batches and dies by SIGKILL right after the second
// is acknowledged, before its record is announced to the key-log process (that waits up to 50 ms).
import { openSqliteStorage } from '../../../src/storage/sqlite/index.ts';
import { item } from '../../contract/fixtures.ts';
import { DOMAIN, NODE, OWNER, keyEvent } from './kt-journal-helpers.ts';

const storage = openSqliteStorage({ path: process.argv[2]! });
await storage.pubsub.createNode({ service: OWNER, node: NODE, config: {}, createdAt: 1 });
await storage.pubsub.publishItem(item(OWNER, NODE, 'a'), undefined, keyEvent('a'));
// Appended before the next batch: the log read waits for it.
if ((await storage.transparency.size(DOMAIN)) !== 1) throw new Error('first event not appended');
await Promise.all(['b', 'c', 'd'].map((id) => storage.pubsub.publishItem(item(OWNER, NODE, id), undefined, keyEvent(id))));
process.stdout.write('acked\n', () => process.kill(process.pid, 'SIGKILL'));
