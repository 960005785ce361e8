import type { ExecRequest } from '@alter0/core';

/** Carries the job id into every process of a run; it also finds a run's tools that left its process tree. */
export const JOB_ID_ENV = 'ALTER0_JOB_ID';

/**
 * alter0's own secrets and settings, never handed to an agent whatever the config says: the CLI's API token, the
 * path to the token file, and the variables that carry `executor.env` (each entry reaches the agent under its own
 * name, once, as configured).
 */
export const ALWAYS_DROPPED: readonly string[] = [
  'ALTER0_TOKEN',
  'ALTER0_TOKEN_FILE',
  'ALTER0_EXECUTOR__ENV',
  'ALTER0_EXECUTOR__ENV__*',
];

/** `*` any run, `?` one character, whole name, case-insensitive (a secret is a secret in any case). */
function globRegex(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

/**
 * Decides which inherited variables an agent gets. `patterns` is `executor.env_drop`: a variable matching a pattern
 * is dropped, one matching a later `!pattern` is kept again (the last match wins, as in .gitignore). A variable
 * whose value is one of `secretValues` (the API token under any name) is dropped too.
 */
export class EnvFilter {
  readonly #rules: { keep: boolean; re: RegExp }[];
  readonly #always: RegExp[];
  readonly #values: ReadonlySet<string>;

  constructor(patterns: readonly string[] = [], secretValues: readonly string[] = []) {
    this.#rules = patterns.map((p) =>
      p.startsWith('!') ? { keep: true, re: globRegex(p.slice(1)) } : { keep: false, re: globRegex(p) },
    );
    this.#always = ALWAYS_DROPPED.map(globRegex);
    this.#values = new Set(secretValues.filter((s) => s !== ''));
  }

  keeps(name: string, value: string): boolean {
    if (this.#always.some((re) => re.test(name)) || this.#values.has(value)) return false;
    let keep = true;
    for (const r of this.#rules) if (r.re.test(name)) keep = r.keep;
    return keep;
  }

  /** The inherited environment minus what is dropped, and minus the daemon's heap sizing in NODE_OPTIONS. */
  apply(base: Readonly<Record<string, string | undefined>>): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(base)) if (v !== undefined && this.keeps(k, v)) env[k] = v;
    const nodeOptions = env.NODE_OPTIONS;
    if (nodeOptions !== undefined) {
      const kept = withoutHeapFlags(nodeOptions);
      if (kept === '') delete env.NODE_OPTIONS;
      else env.NODE_OPTIONS = kept;
    }
    return env;
  }
}

/** V8 heap sizing flags (`_` and `-` are the same to V8). */
const HEAP_FLAG =
  /^--(max[-_]old[-_]space[-_]size(?:[-_]percentage)?|max[-_]semi[-_]space[-_]size|min[-_]semi[-_]space[-_]size|max[-_]young[-_]generation[-_]size|max[-_]heap[-_]size|initial[-_]heap[-_]size|initial[-_]old[-_]space[-_]size)(=.*)?$/;

/**
 * NODE_OPTIONS without its heap sizing flags: sized for the daemon (a deployment may set them for it), they would
 * size every agent CLI that runs on Node (claude; codex's launcher) the same. The other options stay (an owner's
 * `--use-openssl-ca` is meant for every Node program); `executor.env` can set NODE_OPTIONS for agents outright.
 */
function withoutHeapFlags(nodeOptions: string): string {
  // Tokens as Node splits them: whitespace outside double quotes.
  const tokens = nodeOptions.match(/(?:[^\s"]+|"(?:[^"\\]|\\.)*")+/g) ?? [];
  const kept: string[] = [];
  for (let i = 0; i < tokens.length; i += 1) {
    const m = HEAP_FLAG.exec(tokens[i] ?? '');
    if (m === null) kept.push(tokens[i] ?? '');
    // `--max-old-space-size 4096`: the value is the next token.
    else if (m[2] === undefined && /^\d+$/.test(tokens[i + 1] ?? '')) i += 1;
  }
  return kept.join(' ');
}

/**
 * The child's environment: the inherited one minus what the filter drops, then the executor's configured extras
 * (always passed: the owner named them), then what alter0 tells every run about itself (these last so a config
 * cannot fake them).
 */
export function childEnv(
  base: Readonly<Record<string, string | undefined>>,
  extra: Readonly<Record<string, string>> | undefined,
  req: Pick<ExecRequest, 'stage' | 'taskId' | 'jobId' | 'sessionId' | 'approval'>,
  filter: EnvFilter = new EnvFilter(),
): Record<string, string> {
  const env = filter.apply(base);
  Object.assign(env, extra ?? {});
  env.ALTER0_STAGE = req.stage;
  env.ALTER0_TASK_ID = req.taskId ?? '';
  env[JOB_ID_ENV] = req.jobId ?? '';
  env.ALTER0_SESSION_ID = req.sessionId ?? '';
  if (req.approval) {
    env.ALTER0_URL = req.approval.url;
    env.ALTER0_APPROVAL_TOKEN = req.approval.token;
  } else {
    // Never one inherited from whoever started alter0: a run asks with its own token or not at all.
    delete env.ALTER0_APPROVAL_TOKEN;
  }
  return env;
}
