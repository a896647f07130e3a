// Crash safety with SQLite on the worker thread, storage.sync = "full" (see test/helpers/chaos-suite.ts).
import { chaosSuite } from '../../helpers/chaos-suite.ts';

chaosSuite({ thread: 'worker', sync: 'full' });
