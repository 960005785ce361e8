/*
 * Permission rules in claude's own syntax: `Tool` (every use of the tool), `Tool(arg)` (that exact argument),
 * `Tool(prefix:*)` (arguments that start with `prefix`). The argument of a tool use is its command (Bash), else its
 * file path, path, URL or pattern — the field a person reads to judge it.
 */

const RULE_RE = /^([A-Za-z_][\w-]*)(?:\((.*)\))?$/s;
const ARG_FIELDS = ['command', 'file_path', 'path', 'notebook_path', 'url', 'pattern', 'query'] as const;

/** The one string of a tool's input a rule's argument is matched against; null when it has none. */
export function ruleArgument(input: unknown): string | null {
  if (input === null || typeof input !== 'object') return typeof input === 'string' ? input : null;
  const rec = input as Record<string, unknown>;
  for (const f of ARG_FIELDS) {
    const val = rec[f];
    if (typeof val === 'string') return val;
  }
  return null;
}

/** Whether `rule` allows this use of `tool`. */
export function matchesRule(rule: string, tool: string, input: unknown): boolean {
  const m = RULE_RE.exec(rule.trim());
  if (!m || m[1] !== tool) return false;
  const want = m[2];
  if (want === undefined || want === '*') return true;
  const arg = ruleArgument(input);
  if (arg === null) return false;
  if (want.endsWith(':*')) {
    const prefix = want.slice(0, -2);
    // A prefix of words: `git status:*` allows `git status --short`, not `git statusx`.
    return arg === prefix || arg.startsWith(`${prefix} `);
  }
  return arg === want;
}

/** The first of `rules` that allows this use, or null. */
export function allowingRule(rules: readonly string[], tool: string, input: unknown): string | null {
  return rules.find((r) => matchesRule(r, tool, input)) ?? null;
}

/**
 * The rule "always allow this for this task" grants: this tool with this exact argument (`Bash(npm test)`), or the
 * tool itself when its input has no argument a rule can name.
 */
export function ruleFor(tool: string, input: unknown): string {
  const arg = ruleArgument(input);
  return arg === null ? tool : `${tool}(${arg})`;
}
