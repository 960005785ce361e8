import type { Assignment } from './assign.js';
import type { Origin, Problems } from './problems.js';
import { textAssignments } from './text.js';

/** Command-line overrides, as the CLI parsed them. The highest-precedence source. */
export interface FlagOverrides {
  /** --data-dir */
  data_dir?: string;
  /** --listen host:port */
  listen?: string;
  /** --executor claude|codex|command → executor.default */
  executor?: string;
  /** --command prog arg... → executor.command.argv, and executor.default = "command" */
  command?: readonly string[];
  /** --token-file */
  token_file?: string;
  /** --log-level → log.level */
  log_level?: string;
  /** --set section.key=value (repeatable); value text is read like an environment variable's */
  set?: readonly string[];
}

const NAMED: readonly { flag: keyof FlagOverrides; name: string; path: string[] }[] = [
  { flag: 'data_dir', name: '--data-dir', path: ['data_dir'] },
  { flag: 'listen', name: '--listen', path: ['listen'] },
  { flag: 'executor', name: '--executor', path: ['executor', 'default'] },
  { flag: 'token_file', name: '--token-file', path: ['token_file'] },
  { flag: 'log_level', name: '--log-level', path: ['log', 'level'] },
];

export function flagAssignments(flags: FlagOverrides, cwd: string, problems: Problems): Assignment[] {
  const origin = (name: string): Origin => ({ source: 'flag', detail: name, label: name, baseDir: cwd });
  const out: Assignment[] = [];
  for (const set of flags.set ?? []) {
    const eq = set.indexOf('=');
    const key = eq < 0 ? set : set.slice(0, eq);
    const o = origin(`--set ${key}`);
    if (eq < 0 || key === '') {
      problems.add(o.label, key, `expected key=value such as queue.interactive_workers=4, got ${JSON.stringify(set)}`);
      continue;
    }
    out.push(
      ...textAssignments(key.split('.'), set.slice(eq + 1), o, problems, {
        lowercase: false,
        joiner: '.',
        sectionHint: (k) => `set one of its keys, e.g. --set ${k}.<key>=value`,
      }),
    );
  }
  for (const f of NAMED) {
    const value = flags[f.flag];
    if (value !== undefined) out.push({ path: f.path, value, origin: origin(f.name) });
  }
  if (flags.command !== undefined) {
    const o = origin('--command');
    if (flags.executor !== undefined && flags.executor !== 'command') {
      problems.add(
        o.label,
        'executor.default',
        `--command runs the "command" executor but --executor says ${JSON.stringify(flags.executor)}; give only one of them`,
      );
    }
    out.push({ path: ['executor', 'command', 'argv'], value: [...flags.command], origin: o });
    out.push({ path: ['executor', 'default'], value: 'command', origin: o });
  }
  return out;
}
