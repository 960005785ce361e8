import type { LoadedConfig } from './load.js';
import { REDACTED, isSecretName, looksLikeToken, redactArgs, redactText } from './secrets.js';

/**
 * Hides secrets a config value may carry, by name and by shape: `executor.env` variables whose names look secret
 * (TOKEN, SECRET, PASSWORD, PAT, KEY, CREDENTIAL …) or whose values look like keys; URLs with a password, a secret
 * query value or a token in their path (webhooks); auth headers and bearer credentials; the value after (or
 * `=`-joined to) a secret flag such as `--api-key`, `--header`/`-H` or `--token` in args/argv; long random-looking
 * words anywhere.
 */
export function redactValue(key: string, value: unknown): unknown {
  if (typeof value === 'string') {
    const name = key.split('.').pop() ?? '';
    if (key.startsWith('executor.env.') && (isSecretName(name) || looksLikeToken(value))) return REDACTED;
    return redactText(value, { deep: true });
  }
  if (Array.isArray(value) && value.every((x) => typeof x === 'string')) return redactArgs(value);
  return value;
}

function valueAt(obj: unknown, key: string): unknown {
  const top = key.startsWith('executor.env.') ? ['executor', 'env', key.slice('executor.env.'.length)] : key.split('.');
  let cur: unknown = obj;
  for (const seg of top) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

/**
 * A table of every setting, its value (secrets redacted) and where it came from, for
 * `alter0 serve --print-config`.
 */
export function formatConfigReport(loaded: LoadedConfig): string {
  const rows = Object.keys(loaded.sources)
    .sort()
    .map((key) => {
      const s = loaded.sources[key] ?? { source: 'default' };
      return [
        key,
        JSON.stringify(redactValue(key, valueAt(loaded.config, key))) ?? '',
        s.detail === undefined ? s.source : `${s.source} (${s.detail})`,
      ] as const;
    });
  const header = ['KEY', 'VALUE', 'SOURCE'] as const;
  const w0 = Math.max(header[0].length, ...rows.map((r) => r[0].length));
  const w1 = Math.max(header[1].length, ...rows.map((r) => Math.min(r[1].length, 60)));
  const line = (r: readonly [string, string, string]): string =>
    `${r[0].padEnd(w0)}  ${r[1].padEnd(w1)}  ${r[2]}`.trimEnd();
  return [`config file: ${loaded.file ?? '(none)'}`, line(header), ...rows.map(line)].join('\n') + '\n';
}
