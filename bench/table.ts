// Prints the median table for JSON lines written by `npm run bench -- --out FILE`:
//   node --import tsx bench/table.ts FILE...
import { readFileSync } from 'node:fs';
import { table, type Result } from './report.ts';

const results: Result[] = [];
for (const f of process.argv.slice(2)) {
  for (const line of readFileSync(f, 'utf8').split('\n')) if (line.startsWith('{')) results.push(JSON.parse(line) as Result);
}
process.stdout.write(`${table(results)}\n`);
