// Entry point of the `pepkeys` command (bin/pepkeys.js and `npm start` run this file).
import { run } from './program.ts';

await run(process.argv);
