// Types for scripts/build-console.mjs, imported by the browser tests.
export function bundleForBrowser(entry: string, outfile: string, options?: { minify?: boolean }): Promise<void>;
export function buildConsole(outDir?: string): Promise<string>;
