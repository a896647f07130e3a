// Crash safety with SQLite on the main thread, storage.sync = "normal" (see test/helpers/chaos-suite.ts).
import { chaosSuite } from '../../helpers/chaos-suite.ts';

chaosSuite({ thread: 'main', sync: 'normal' });
