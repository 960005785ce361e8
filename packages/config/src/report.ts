import type { LoadedConfig } from './load.js';

const SECRET_NAME = /(token|secret|passw|api[_-]?key|(^|_)key$|auth|credential|cookie|private)/i;
const SECRET_FLAG = /^--?[\w-]*(token|secret|passw|api[_-]?key|auth|credential|cookie)[\w-]*$/i;
const REDACTED = '<redacted>';

/**
 * Hides secrets a config value may carry: executor.env variables whose names look secret,
 * passwords in URLs, and the values of secret-looking flags in args/argv lists.
 */
export function redactValue(key: string, value: unknown): unknown {
  if (typeof value === 'string') {
    const name = key.split('.').pop() ?? '';
    if (key.startsWith('executor.env.') && SECRET_NAME.test(name)) return REDACTED;
    return redactUrl(value);
  }
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const prev: unknown = value[i - 1];
      if (typeof item !== 'string') out.push(item);
      else if (typeof prev === 'string' && SECRET_FLAG.test(prev)) out.push(REDACTED);
      else {
        const eq = item.indexOf('=');
        out.push(eq > 0 && SECRET_FLAG.test(item.slice(0, eq)) ? `${item.slice(0, eq)}=${REDACTED}` : redactUrl(item));
      }
    }
    return out;
  }
  return value;
}

function redactUrl(s: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(s) || !URL.canParse(s)) return s;
  const u = new URL(s);
  if (u.password !== '') u.password = 'redacted';
  else if (u.username !== '') u.username = 'redacted';
  return u.toString();
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
      return [key, JSON.stringify(redactValue(key, valueAt(loaded.config, key))) ?? '', s.detail === undefined ? s.source : `${s.source} (${s.detail})`] as const;
    });
  const header = ['KEY', 'VALUE', 'SOURCE'] as const;
  const w0 = Math.max(header[0].length, ...rows.map((r) => r[0].length));
  const w1 = Math.max(header[1].length, ...rows.map((r) => Math.min(r[1].length, 60)));
  const line = (r: readonly [string, string, string]): string => `${r[0].padEnd(w0)}  ${r[1].padEnd(w1)}  ${r[2]}`.trimEnd();
  return [`config file: ${loaded.file ?? '(none)'}`, line(header), ...rows.map(line)].join('\n') + '\n';
}
