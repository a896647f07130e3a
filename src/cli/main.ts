// Entry point of the `pepkeys` command (bin/pepkeys.js and `npm start` run this file): the program on the
// real process. The exit code is set, not forced, so pending stdout/stderr writes still flush.
import { run } from './program.ts';
import { processIo } from './io.ts';

process.exitCode = await run(process.argv, processIo());
