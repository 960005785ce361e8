// Bundles what `alter0 serve` loads before it listens into one file, dist/serve.bundle.mjs (run by `pnpm build`).
//
// Why: the daemon's ~650 modules cost ~1.3 s of start-up here in module resolution alone (each import looks up
// package.json files up the tree) and ~25 MiB of resident memory; one file starts in ~0.5 s at ~76 MiB
// (docs/benchmarks.md, "A lean kernel"). It is a faster way to load the same compiled code, not a separate
// artifact: every module keeps its own `import.meta.url` (rewritten to its file's place relative to the bundle),
// so the files found next to a module — migrations, prompt templates, worker threads, the spawner's helper, the
// console's build — are found where they always are, and the bundle moves with the tree. better-sqlite3 (native)
// stays external. The entry shim (bin/alter0.js) uses the bundle only while it is newer than every package's
// last build, and the plain modules otherwise.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const CLI = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
const OUT = path.join(CLI, 'dist', 'serve.bundle.mjs');
const OUT_DIR = path.dirname(OUT);

/** `import.meta.url` of each bundled module, as its own file's URL relative to the bundle. */
const ownImportMetaUrl = {
  name: 'own-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.(m?js|cjs)$/ }, async (args) => {
      const text = await fs.promises.readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const rel = path.relative(OUT_DIR, args.path).split(path.sep).join('/');
      return {
        contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(rel)}, import.meta.url).href`),
        loader: 'js',
        resolveDir: path.dirname(args.path),
      };
    });
  },
};

const started = performance.now();
const result = await build({
  entryPoints: [path.join(CLI, 'dist', 'serve-fast.js')],
  outfile: OUT,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  external: ['better-sqlite3'],
  // CommonJS dependencies (winston, prom-client …) call require(); in one ES module it comes from here.
  banner: {
    js: "import { createRequire as __alter0Require } from 'node:module';\nconst require = __alter0Require(import.meta.url);",
  },
  plugins: [ownImportMetaUrl],
  logLevel: 'warning',
  legalComments: 'none',
});
if (result.errors.length > 0) process.exit(1);
const kib = Math.round(fs.statSync(OUT).size / 1024);
process.stderr.write(
  `bundled the daemon: ${path.relative(process.cwd(), OUT)} (${kib} KiB, ${Math.round(performance.now() - started)} ms)\n`,
);
