import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { HIT } from './mutants.js';
import type { Mutant, MutantPatch } from './mutants.js';
import type { ViolationKind } from './result.js';

/** Where a mutant's build lives: inside apps/cli, so Node still finds apps/cli/node_modules from it. */
export interface MutantBuild {
  dir: string;
  bin: string;
  bundle: string;
  /** One line per daemon start (`start <pid>`) and per process that ran the mutated code (`hit <pid>`). */
  marks: string;
}

/** The patched text; throws, naming the mutant, unless `find` (and each of `also`) matches the bundle exactly once. */
export function applyMutant(
  bundle: string,
  m: Pick<Mutant, 'name' | 'find' | 'replace' | 'also'>,
  hitCall: string,
): string {
  let out = bundle;
  for (const p of [m, ...(m.also ?? [])]) out = patchOnce(out, m.name, p, hitCall);
  return out;
}

function patchOnce(bundle: string, name: string, p: MutantPatch, hitCall: string): string {
  const replace = p.replace.split(HIT).join(hitCall);
  if (typeof p.find === 'string') {
    const at = bundle.indexOf(p.find);
    const n = at < 0 ? 0 : bundle.split(p.find).length - 1;
    if (n !== 1) throw new Error(mismatch(name, n));
    // Spliced, not String.replace: `$` in the replacement is literal.
    return bundle.slice(0, at) + replace + bundle.slice(at + p.find.length);
  }
  const flags = p.find.flags.includes('g') ? p.find.flags : `${p.find.flags}g`;
  const n = [...bundle.matchAll(new RegExp(p.find.source, flags))].length;
  if (n !== 1) throw new Error(mismatch(name, n));
  return bundle.replace(new RegExp(p.find.source, p.find.flags.replace('g', '')), replace);
}

const mismatch = (name: string, n: number): string =>
  `mutant ${name}: its find text matches the daemon bundle ${n} times, not once — the code it breaks has moved; update tooling/soak/src/mutants.ts`;

/**
 * The bundle as the mutant's copy runs it: every module's `import.meta.url` pinned to the original bundle's URL (the
 * bundle finds migrations, prompts and worker files relative to apps/cli/dist), and a prelude that records each
 * start and the first run of the mutated code in `marks`.
 */
export function mutantBundle(original: string, originalUrl: string, marks: string, m: Mutant | null): string {
  const fn = '__alter0MutantHit';
  const pinned = original.split('import.meta.url').join(JSON.stringify(originalUrl));
  const patched = m === null ? pinned : applyMutant(pinned, m, `${fn}()`);
  const file = JSON.stringify(marks);
  const prelude = [
    "import { appendFileSync as __alter0MutantAppend } from 'node:fs';",
    `let __alter0MutantHitDone = false;`,
    `function ${fn}() { if (__alter0MutantHitDone) return; __alter0MutantHitDone = true; try { __alter0MutantAppend(${file}, \`hit \${process.pid}\\n\`); } catch {} }`,
    `try { __alter0MutantAppend(${file}, \`start \${process.pid}\\n\`); } catch {}`,
  ].join('\n');
  return `${prelude}\n${patched}`;
}

/**
 * The entry shim's copy: its freshness check looks at the real repository's packages, not at apps/cli/; the other
 * commands (`alter0 send` of the CLI channel) run the real CLI. Its fallback to the separate modules
 * ('../dist/serve-fast.js') is left pointing into the copy, where it does not exist: a copy the shim refused fails
 * to start, loudly, instead of serving the unmutated code.
 */
function mutantShim(shim: string, root: string): string {
  const dist = pathToFileURL(path.join(root, 'apps/cli/dist')).href;
  const swaps: [string, string][] = [
    ["new URL('../../../', import.meta.url)", `new URL(${JSON.stringify(pathToFileURL(`${root}/`).href)})`],
    ["import('../dist/bin.js')", `import(${JSON.stringify(`${dist}/bin.js`)})`],
    ["import('../dist/commands/mcp-approvals.js')", `import(${JSON.stringify(`${dist}/commands/mcp-approvals.js`)})`],
  ];
  let out = shim;
  for (const [find, replace] of swaps) {
    const n = out.split(find).length - 1;
    if (n !== 1) throw new Error(`apps/cli/bin/alter0.js: expected ${find} once, found it ${n} times`);
    out = out.replace(find, replace);
  }
  return out;
}

/** A day ahead: other builds (tsc -b) during a run must not make the shim refuse the copy between two restarts. */
const AHEAD_MS = 86_400_000;

/** Writes apps/cli/.mutants/<name>/{bin/alter0.js,dist/serve.bundle.mjs} (m null: the unmutated control). */
export function prepareMutant(root: string, name: string, m: Mutant | null): MutantBuild {
  const cli = path.join(root, 'apps/cli');
  const original = path.join(cli, 'dist/serve.bundle.mjs');
  const dir = path.join(cli, '.mutants', name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'bin'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'dist'), { recursive: true });
  const b: MutantBuild = {
    dir,
    bin: path.join(dir, 'bin/alter0.js'),
    bundle: path.join(dir, 'dist/serve.bundle.mjs'),
    marks: path.join(dir, 'marks.log'),
  };
  const text = fs.readFileSync(original, 'utf8');
  fs.writeFileSync(b.bundle, mutantBundle(text, pathToFileURL(original).href, b.marks, m));
  fs.writeFileSync(b.bin, mutantShim(fs.readFileSync(path.join(cli, 'bin/alter0.js'), 'utf8'), root));
  const ahead = new Date(Date.now() + AHEAD_MS);
  fs.utimesSync(b.bundle, ahead, ahead);
  return b;
}

/** The packages whose last build (tsconfig.tsbuildinfo) is newer than `file`: the entry shim would not load it. */
export function newerBuilds(root: string, file: string): string[] {
  const built = fs.statSync(file).mtimeMs;
  const out: string[] = [];
  for (const group of ['packages', 'apps']) {
    for (const name of fs.readdirSync(path.join(root, group))) {
      try {
        if (fs.statSync(path.join(root, group, name, 'tsconfig.tsbuildinfo')).mtimeMs > built)
          out.push(`${group}/${name}`);
      } catch {
        // Not built with tsc -b: not checked by the shim either.
      }
    }
  }
  return out;
}

/** What the marks file says: how many daemon starts ran this bundle, and how many processes ran the mutated code. */
export function readMarks(file: string): { starts: number; hits: number } {
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return { starts: 0, hits: 0 };
  }
  const lines = text.split('\n');
  return {
    starts: lines.filter((l) => l.startsWith('start ')).length,
    hits: lines.filter((l) => l.startsWith('hit ')).length,
  };
}

/** One soak run's outcome, as mutants.json records it. */
export interface MutantRun {
  name: string;
  targets: ViolationKind | null;
  why: string;
  flags: string[];
  /** True: reported the kind it targets, which its control did not; null: the control reported that kind too. */
  caught: boolean | null;
  /** Violations of the targeted kind in the control run with the same flags (the noise floor). */
  control_count?: number;
  passed: boolean;
  exit_code: number | null;
  violations_by_kind: Partial<Record<ViolationKind, number>>;
  first_violation: string | null;
  /** Daemon starts that ran the mutant's bundle, and processes that ran its broken code. */
  starts: number;
  hits: number;
  duration_s: number;
  report: string;
  error?: string;
}

/**
 * A mutant is caught when its run reports the kind it targets and fails while the control (same flags, unmutated)
 * did not report that kind; when the control reported it too, the run shows nothing either way (null).
 */
export function judge(r: MutantRun, control: MutantRun | undefined): MutantRun {
  if (r.targets === null) return r;
  const n = r.violations_by_kind[r.targets] ?? 0;
  const c = control?.violations_by_kind[r.targets] ?? 0;
  return { ...r, control_count: c, caught: n === 0 || r.passed ? false : c === 0 ? true : null };
}

/** Runs the soak against a build; resolves with its exit code once it has written its JSON report. */
export function runSoakProcess(
  root: string,
  args: string[],
  logFile: string,
  timeoutMs: number,
): Promise<number | null> {
  const main = path.join(root, 'tooling/soak/dist/main.js');
  const out = fs.openSync(logFile, 'w');
  const child = spawn(process.execPath, [main, ...args], { cwd: root, stdio: ['ignore', out, out] });
  // A run that overstays is interrupted (SIGINT: it still stops the daemon and writes its report).
  const timer = setTimeout(() => child.kill('SIGINT'), timeoutMs);
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      clearTimeout(timer);
      fs.closeSync(out);
      resolve(code);
    });
  });
}
