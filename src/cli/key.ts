// The `key` command group (issue 6): registered on the pepkeys program by src/cli/program.ts.
export { keyCommand } from './key/commands.ts';
