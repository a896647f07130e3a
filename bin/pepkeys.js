#!/usr/bin/env node
// Installed `pepkeys` command. The sources are TypeScript and Node 20 cannot strip types itself, so register
// tsx's ESM loader in this process (no second process, signals reach the server directly), then run the CLI.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
