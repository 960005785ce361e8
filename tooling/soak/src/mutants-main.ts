// Mutation testing of the soak (issue 18): node tooling/soak/dist/mutants-main.js [--only a,b] [--out FILE]
// [--duration 2m] [--seed N] [--list]. Each mutant is a broken copy of the daemon's bundle; the day soak run against
// it must report the violation kind the mutant targets. An unmutated control runs with the same flags first.
// Exit status: 0 every mutant caught and every control passed, 1 otherwise, 2 usage.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MUTANTS } from './mutants.js';
import type { Mutant } from './mutants.js';
import { judge, newerBuilds, prepareMutant, readMarks, runSoakProcess } from './mutants-build.js';
import type { MutantRun } from './mutants-build.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');

interface Args {
  only: string[] | null;
  out: string;
  duration: string;
  seed: string;
}

function parse(argv: string[]): Args | null {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      only: { type: 'string' },
      out: { type: 'string', default: 'docs/soak-results/mutants.json' },
      duration: { type: 'string', default: '4m' },
      seed: { type: 'string', default: '20261202' },
      list: { type: 'boolean', default: false },
    },
  });
  if (values.list) {
    for (const m of MUTANTS) process.stdout.write(`${m.name}\t${m.targets}\t${m.why}\n`);
    return null;
  }
  const only = values.only === undefined ? null : values.only.split(',').filter(Boolean);
  const unknown = (only ?? []).filter((n) => !MUTANTS.some((m) => m.name === n || m.targets === n));
  if (unknown.length > 0) throw new Error(`--only: unknown mutant(s) ${unknown.join(', ')} (see --list)`);
  return { only, out: values.out, duration: values.duration, seed: values.seed };
}

/** The JSON report of one soak run, as far as this tool reads it. */
interface SoakJson {
  passed: boolean;
  violations_by_kind: Record<string, number>;
  summary?: { violation_list?: { kind: string; detail: string }[] };
}

/** Runs the soak once against a build (m null: the control) and reads what it found. */
async function runOne(a: Args, name: string, m: Mutant | null, flags: string[]): Promise<MutantRun> {
  const build = prepareMutant(root, name, m);
  const stale = newerBuilds(root, build.bundle);
  const json = path.join(build.dir, 'soak.json');
  const report = path.join(build.dir, 'soak.md');
  const args = ['--profile', 'day', '--duration', a.duration, '--seed', a.seed, '--bin', build.bin];
  args.push('--out', report, '--json', json, ...flags);
  const started = Date.now();
  const base: MutantRun = {
    name,
    targets: m?.targets ?? null,
    why: m?.why ?? 'the unmutated bundle, with the same flags',
    flags,
    caught: null,
    passed: false,
    exit_code: null,
    violations_by_kind: {},
    first_violation: null,
    starts: 0,
    hits: 0,
    duration_s: 0,
    report: path.relative(root, report),
  };
  if (stale.length > 0) return { ...base, error: `the shim would not load the copy: ${stale.join(', ')} built later` };
  log(`${name}: soak ${args.join(' ')}`);
  const code = await runSoakProcess(root, args, path.join(build.dir, 'soak.log'), 45 * 60_000);
  const marks = readMarks(build.marks);
  const r: MutantRun = { ...base, exit_code: code, ...marks, duration_s: Math.round((Date.now() - started) / 1000) };
  let j: SoakJson;
  try {
    j = JSON.parse(fs.readFileSync(json, 'utf8')) as SoakJson;
  } catch (err) {
    return { ...r, error: `no JSON report (exit ${code}): ${err instanceof Error ? err.message : String(err)}` };
  }
  const byKind = Object.fromEntries(Object.entries(j.violations_by_kind).filter(([, n]) => n > 0));
  const target = m?.targets;
  const first = target ? (j.summary?.violation_list?.find((v) => v.kind === target)?.detail ?? null) : null;
  return {
    ...r,
    passed: j.passed,
    violations_by_kind: byKind,
    caught: target === undefined ? null : (byKind[target] ?? 0) > 0 && !j.passed,
    first_violation: first ?? (target ? null : (j.summary?.violation_list?.[0]?.detail ?? null)),
    ...(marks.starts === 0 ? { error: 'the copy never started: the soak did not run this build' } : {}),
  };
}

const log = (line: string): void => void process.stderr.write(`[mutants ${new Date().toISOString()}] ${line}\n`);

function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** Writes what is known so far: an interrupted or failed run still leaves its results. */
function write(a: Args, doc: Record<string, unknown>): void {
  const out = path.resolve(root, a.out);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(doc, null, 2)}\n`);
}

async function main(argv: string[]): Promise<number> {
  const a = parse(argv);
  if (a === null) return 0;
  // In the order asked for (the most telling first when time is short), else the list's.
  const chosen =
    a.only === null ? [...MUTANTS] : MUTANTS.filter((m) => a.only?.includes(m.name) || a.only?.includes(m.targets));
  if (a.only !== null) {
    const rank = (m: Mutant): number => a.only?.findIndex((n) => n === m.name || n === m.targets) ?? 0;
    chosen.sort((x, y) => rank(x) - rank(y));
  }
  const bundle = path.join(root, 'apps/cli/dist/serve.bundle.mjs');
  // Every mutant's find is checked before any run: a moved piece of code fails here, at once.
  for (const m of chosen) prepareMutant(root, m.name, m);
  const controls: Record<string, MutantRun> = {};
  const mutants: MutantRun[] = [];
  const doc = {
    commit: commit(),
    started_at: new Date().toISOString(),
    duration: a.duration,
    seed: Number(a.seed),
    base_bundle_stale: newerBuilds(root, bundle),
    command: `node tooling/soak/dist/mutants-main.js ${argv.join(' ')}`.trim(),
    control: null as MutantRun | null,
    controls,
    mutants,
  };
  for (const m of chosen) {
    const flags = m.flags ?? [];
    const key = flags.join(' ') || 'default';
    if (controls[key] === undefined) {
      controls[key] = await runOne(a, `control${flags.length > 0 ? `-${m.name}` : ''}`, null, flags);
      doc.control ??= controls[key];
      log(
        `control (${key}): ${controls[key].passed ? 'PASS' : 'FAIL'} ${JSON.stringify(controls[key].violations_by_kind)}`,
      );
      write(a, doc);
    }
    const r = judge(await runOne(a, m.name, m, flags), controls[key]);
    mutants.push(r);
    log(
      `${m.name} → ${m.targets}: ${r.caught === null ? 'UNDECIDED (the control reported it too)' : r.caught ? 'CAUGHT' : 'NOT CAUGHT'} ${JSON.stringify(r.violations_by_kind)}`,
    );
    write(a, doc);
  }
  const bad = mutants.filter((r) => r.caught !== true).map((r) => r.name);
  const failedControls = Object.values(controls).filter((c) => !c.passed);
  if (bad.length > 0) log(`not caught: ${bad.join(', ')}`);
  if (failedControls.length > 0) log(`controls that failed: ${failedControls.map((c) => c.name).join(', ')}`);
  return bad.length === 0 && failedControls.length === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`mutants: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
