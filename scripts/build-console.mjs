// Builds the browser key console (web/console) into dist/console with esbuild: one ES module bundle of the
// console and the shared client/keys SDK, plus index.html and style.css. Node built-ins the SDK imports are
// mapped to browser shims (web/console/shims) or to an empty module for paths the console never runs.
import { build } from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'web', 'console');
const shims = join(src, 'shims');

const MAPPED = {
  'node:crypto': join(shims, 'node-crypto.ts'),
  'node:url': join(shims, 'node-url.ts'),
  'node:events': join(root, 'node_modules', 'events', 'events.js'),
  'node:buffer': join(root, 'node_modules', 'buffer', 'index.js'),
};
const UNAVAILABLE = /^(node:(net|tls|fs|fs\/promises|path|os|http|https|stream|zlib|worker_threads)|better-sqlite3|openpgp)$/;

const nodeShims = {
  name: 'node-shims',
  setup(b) {
    b.onResolve({ filter: /^node:|^better-sqlite3$|^openpgp$/ }, (args) => {
      if (MAPPED[args.path]) return { path: MAPPED[args.path] };
      if (UNAVAILABLE.test(args.path)) return { path: join(shims, 'unavailable.cjs') };
      return { errors: [{ text: `${args.path} has no browser shim (imported by ${args.importer})` }] };
    });
  },
};

/** Bundles one browser entry point with the SDK and its shims (also used by the tests for probe pages). */
export async function bundleForBrowser(entry, outfile, { minify = true } = {}) {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify,
    sourcemap: true,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    inject: [join(shims, 'buffer-global.ts')],
    define: { 'process.env.NODE_ENV': '"production"', 'process.platform': '"browser"', global: 'globalThis' },
    plugins: [nodeShims],
    logLevel: 'warning',
  });
}

/** Builds the console into `outDir` (default dist/console); returns the output directory. */
export async function buildConsole(outDir = join(root, 'dist', 'console')) {
  await mkdir(outDir, { recursive: true });
  await bundleForBrowser(join(src, 'main.tsx'), join(outDir, 'console.js'));
  for (const f of ['index.html', 'style.css']) await copyFile(join(src, f), join(outDir, f));
  return outDir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildConsole(process.argv[2]);
