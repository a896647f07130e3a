#!/usr/bin/env node
// Installed `pepkeys` command. `npm install` compiles src/ to dist/ (the `prepare` script), and that build is
// what runs: no transpiling at run time. Without a build (a checkout where it was removed) the TypeScript
// sources run through tsx's ESM loader, registered in this process so signals reach the server directly.
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
