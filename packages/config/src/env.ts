import type { Assignment } from './assign.js';
import type { Origin, Problems } from './problems.js';
import { textAssignments } from './text.js';

const ENV_PREFIX = 'ALTER0_';

/**
 * ALTER0_ variables that are not configuration: set by alter0 for the agent CLIs it runs, by the
 * test and tooling scripts, or read by the CLI client. They are ignored, never errors.
 */
export const RESERVED_ENV_NAMES: readonly string[] = [
  'ALTER0_CONFIG', // names the config file
  'ALTER0_REQUIRE_TOOLS', // tests: fail instead of skip when an external tool is missing
  'ALTER0_STAGE', // set for executor children
  'ALTER0_TASK_ID',
  'ALTER0_JOB_ID',
  'ALTER0_SESSION_ID',
  'ALTER0_URL', // CLI client: daemon base URL
  'ALTER0_APPROVAL_TOKEN', // set for executor children: raises approvals for their own run only
  'ALTER0_TOKEN', // CLI client: bearer token
  'ALTER0_ROOT', // tooling/env.sh
  'ALTER0_TOOLS',
  'ALTER0_NODE_VERSION', // tooling/versions.env
  'ALTER0_NODE_MIN_MAJOR',
  'ALTER0_PNPM_VERSION',
  'ALTER0_CI_REPEAT', // .ci/run: how many times to run the test command
  'ALTER0_LONG_TESTS', // tests: the long crash loop instead of the short default one
  'ALTER0_BENCH', // tests: 1 runs the stats and usage bench (packages/maintenance/test/stats-rollup.test.ts)
  'ALTER0_RELEASE_SKIP_TESTS', // tooling/release.sh
  'ALTER0_BUILD_COMMIT', // tooling/stamp-build.mjs
  'ALTER0_BIN', // web console tests: another build to test
  'ALTER0_MODEL_RUNS', // the model-based test of the job state machine: runs, and replaying a failure
  'ALTER0_MODEL_SEED',
  'ALTER0_MODEL_PATH',
  'ALTER0_MODEL_DEBUG',
  'ALTER0_FAKE_OPENAI_KEY', // packages/fakes: the API key variable the codex CLI is given in tests
];

/** Short names kept for convenience; everything else is ALTER0_<SECTION>__<KEY>. */
const ALIASES: Readonly<Record<string, readonly string[]>> = {
  ALTER0_EXECUTOR: ['executor', 'default'],
};

/**
 * Every ALTER0_ variable that is not reserved is a setting: `ALTER0_<KEY>` for top-level keys and
 * `ALTER0_<SECTION>__<KEY>` below (double underscore between levels). Unknown names are errors so a
 * typo never silently does nothing.
 */
export function envAssignments(
  env: NodeJS.ProcessEnv,
  opts: { cwd: string; ignore: readonly string[] },
  problems: Problems,
): Assignment[] {
  const skip = new Set([...RESERVED_ENV_NAMES, ...opts.ignore]);
  const names = Object.keys(env)
    .filter((n) => n.startsWith(ENV_PREFIX) && !skip.has(n))
    .sort();
  const out: Assignment[] = [];
  for (const name of names) {
    const text = env[name];
    if (text === undefined) continue;
    const origin: Origin = { source: 'env', detail: name, label: name, baseDir: opts.cwd };
    const segments = ALIASES[name] ?? name.slice(ENV_PREFIX.length).split('__');
    out.push(
      ...textAssignments(segments, text, origin, problems, {
        lowercase: true,
        joiner: '__',
        sectionHint: (key) =>
          `set one of its keys, e.g. ${ENV_PREFIX}${key.toUpperCase().replaceAll('.', '__')}__<KEY>`,
      }),
    );
  }
  return out;
}

/** The variable that sets a dotted key, for docs and messages. */
export function envNameFor(key: string): string {
  if (key === 'executor.default') return 'ALTER0_EXECUTOR';
  return (
    ENV_PREFIX +
    key
      .split('.')
      .map((s) => s.toUpperCase())
      .join('__')
  );
}
