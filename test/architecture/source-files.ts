// The TypeScript files under a directory, for the architecture tests that read the sources.
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const SRC = resolve('src');

export function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sourceFiles(p, out);
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}
