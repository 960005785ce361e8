// alter0 soak harness entry: node tooling/soak/dist/main.js --duration 90s --out soak.md [...]
// (`alter0 soak` runs this). Exit status: 0 pass, 1 violations or bounds exceeded or no drain, 2 usage,
// 3 the harness itself failed, 130 interrupted.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { USAGE, UsageError, killPlan, parseOptions } from './options.js';
import { renderReport, samplesCsv } from './report.js';
import { jsonReport } from './day/json-report.js';
import type { Build } from './day/json-report.js';
import { runSoak } from './soak.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const TEMPLATE = path.join(root, 'docs/soak-template.md');

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  let opts;
  try {
    opts = parseOptions(argv, path.join(root, 'apps/cli/bin/alter0.js'));
  } catch (err) {
    if (
      err instanceof UsageError ||
      (err instanceof Error && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))
    ) {
      process.stderr.write(`alter0 soak: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }
  const template = fs.readFileSync(TEMPLATE, 'utf8');
  fs.mkdirSync(path.dirname(path.resolve(opts.out)), { recursive: true });
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    process.stderr.write(
      `alter0 soak: ${sig}: stopping the load and the daemon, then writing the report${signals > 1 ? ' (again: exiting now)' : ''}\n`,
    );
    if (signals > 1) process.exit(130);
    controller.abort(new Error(`interrupted by ${sig}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const log = (line: string): void => void process.stderr.write(`[soak ${new Date().toISOString()}] ${line}\n`);
  log(
    `seed ${opts.seed}, load for ${opts.durationMs / 1000}s at ${opts.rate}/s, ${killPlan(opts)}; report → ${opts.out}`,
  );
  const build = buildOf(root);
  const result = await runSoak(opts, { agent: path.join(here, 'agent.js') }, controller.signal, log);
  const report = renderReport(result, template);
  fs.writeFileSync(opts.out, report.markdown);
  if (opts.json !== null) {
    fs.mkdirSync(path.dirname(path.resolve(opts.json)), { recursive: true });
    fs.writeFileSync(opts.json, `${JSON.stringify(jsonReport(result, report, build), null, 2)}\n`);
  }
  if (opts.samples !== null) fs.writeFileSync(opts.samples, samplesCsv(result));
  log(
    `${report.passed ? 'PASS' : 'FAIL'}: ${result.accepted} jobs, ${result.restarts.length} restarts, ${report.violations.length} violation(s); report written to ${opts.out}`,
  );
  if (result.interrupted) return 130;
  if (result.harnessErrors.length > 0 && result.accepted === 0) return 3;
  return report.passed ? 0 : 1;
}

/** The commit this harness runs from (the daemon is built from the same tree), read when the run starts. */
function buildOf(dir: string): Build {
  const git = (args: string[]): string | null => {
    try {
      return execFileSync('git', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return null;
    }
  };
  return { commit: git(['rev-parse', 'HEAD']) ?? 'unknown', dirty: (git(['status', '--porcelain']) ?? '') !== '' };
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `alter0 soak: the harness failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(3);
  },
);
