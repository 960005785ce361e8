/*
 * What a secret looks like, by name and by value. The one place these rules live: `--print-config` and the
 * run-time redactor (redact.ts) both use them, so what is hidden in one place is hidden in the other.
 */

export const REDACTED = '<redacted>';
/** Inside a URL the marker must stay URL-safe, so the URL still reads as one. */
const URL_REDACTED = 'redacted';

// `tokens` is a count (max_tokens), `author` a person.
const SECRET_SUBSTRING =
  /token(?!s|iz)|secret|passw|credential|api_?key|apikey|access_?key|private_?key|cookie|auth(?!or)/i;
const SECRET_WORDS: ReadonlySet<string> = new Set(['key', 'keys', 'pat', 'pass', 'pwd', 'sig', 'signature', 'dsn']);

/** A variable, setting, flag or query parameter name that says its value is a secret (GITHUB_PAT, MY_TOKEN, x-api-key …). */
export function isSecretName(name: string): boolean {
  if (SECRET_SUBSTRING.test(name)) return true;
  return name
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .some((w) => SECRET_WORDS.has(w));
}

/** Flags whose next argument is a secret whatever the flag's name says (curl's `-H`/`--header`, `-u user:password`). */
const SECRET_VALUE_FLAGS: ReadonlySet<string> = new Set([
  '-H',
  '--header',
  '--headers',
  '-u',
  '--user',
  '--proxy-user',
  '--oauth2-bearer',
]);

/** A command-line flag (`--api-key`, `--header`, `-H`, `--token`) whose value is a secret. */
export function isSecretFlag(arg: string): boolean {
  if (SECRET_VALUE_FLAGS.has(arg)) return true;
  return /^--?[A-Za-z][\w-]*$/.test(arg) && isSecretName(arg.replace(/^--?/, ''));
}

/** Prefixes of credentials that are secrets wherever they appear (provider API keys, forge tokens, cloud keys). */
const KNOWN_TOKEN =
  /\b(?:sk-[A-Za-z0-9_-]{16,}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_-]{16,}|xox[abposr]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{30,}|hf_[A-Za-z0-9]{20,}|npm_[A-Za-z0-9]{30,})/g;
/** `Authorization: …` and friends, to the end of the line. */
const AUTH_HEADER =
  /\b((?:proxy-)?authorization|x-api-key|api-key|x-auth-token|cookie|set-cookie)(\s*[:=]\s*)[^\r\n"]+/gi;
const BEARER = /\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{8,}/gi;
const URL_RE = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;

/** Shannon entropy in bits per character. */
function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/**
 * A long random-looking word: an API key, a hex or base64 secret. Model names ("claude-opus-4-1-20250805") and
 * paths are words joined by separators and fall below the run length; a git sha or a ULID passes (that is the price
 * of catching unknown key formats, paid only where it is used: --print-config).
 */
export function looksLikeToken(word: string): boolean {
  if (word.length < 20 || !/^[A-Za-z0-9_\-+/=.~]+$/.test(word)) return false;
  const longestRun = Math.max(...(word.match(/[A-Za-z0-9]+/g) ?? ['']).map((r) => r.length));
  return longestRun >= 16 && /\d/.test(word) && /[A-Za-z]/.test(word) && entropy(word) >= 3.2;
}

export interface RedactTextOptions {
  /**
   * Also hide random-looking words and URL path segments (webhook secrets). Right for configuration values; wrong for
   * logs, where ids and hashes are what you read.
   */
  deep: boolean;
}

/** Hides the secret parts of one URL: the password (or a lone user name: a token), secret query values, and with `deep` token-like path segments. */
export function redactUrl(url: string, opts: RedactTextOptions = { deep: true }): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/i.exec(url);
  if (m === null) return url;
  const [, scheme = '', authority = '', rest = ''] = m;
  let auth = authority;
  const at = authority.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    const colon = userinfo.indexOf(':');
    const safe = colon >= 0 ? `${userinfo.slice(0, colon)}:${URL_REDACTED}` : URL_REDACTED;
    auth = `${safe}${authority.slice(at)}`;
  }
  const q = rest.indexOf('?');
  let pathPart = q >= 0 ? rest.slice(0, q) : rest;
  let query = q >= 0 ? rest.slice(q) : '';
  if (opts.deep)
    pathPart = pathPart
      .split('/')
      .map((seg) => (looksLikeToken(seg) ? URL_REDACTED : seg))
      .join('/');
  query = query.replace(/([?&;])([^=&#;\s]+)=([^&#;\s]*)/g, (all, sep: string, name: string, value: string) =>
    value !== '' && (isSecretName(name) || /^(x-amz-(signature|credential|security-token)|code)$/i.test(name))
      ? `${sep}${name}=${URL_REDACTED}`
      : all,
  );
  return `${scheme}${auth}${pathPart}${query}`;
}

/**
 * Hides what looks secret in free text: auth headers, bearer/basic credentials, URL passwords and secret query
 * parameters, known credential formats; with `deep` also random-looking words and URL path segments.
 */
export function redactText(text: string, opts: RedactTextOptions): string {
  let out = text.replace(AUTH_HEADER, (_all, name: string, sep: string) => `${name}${sep}${REDACTED}`);
  out = out.replace(BEARER, (_all, kind: string, sp: string) => `${kind}${sp}${REDACTED}`);
  // URLs get their own rules; the random-word rule applies between them (a URL is not one word).
  let result = '';
  let last = 0;
  for (const m of out.matchAll(URL_RE)) {
    result += redactWords(out.slice(last, m.index), opts) + redactUrl(m[0], opts);
    last = m.index + m[0].length;
  }
  result += redactWords(out.slice(last), opts);
  return result.replace(KNOWN_TOKEN, REDACTED);
}

function redactWords(text: string, opts: RedactTextOptions): string {
  return opts.deep ? text.replace(/[A-Za-z0-9_\-+/=.~]{20,}/g, (w) => (looksLikeToken(w) ? REDACTED : w)) : text;
}

/**
 * The secret values in an argument list: the value after a secret flag (`--api-key K`, `-H "Authorization: …"`),
 * the value joined to one (`--token=T`), and arguments that are tokens by shape.
 */
export function secretArgs(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const prev = args[i - 1];
    const eq = arg.indexOf('=');
    if (prev !== undefined && isSecretFlag(prev)) out.push(arg);
    else if (eq > 0 && isSecretFlag(arg.slice(0, eq))) out.push(arg.slice(eq + 1));
    else if (looksLikeToken(arg) || new RegExp(KNOWN_TOKEN.source).test(arg)) out.push(arg);
  }
  return out.filter((s) => s !== '');
}

/** An argument list with its secrets hidden (for display): see secretArgs, plus redactText on every argument. */
export function redactArgs(args: readonly string[]): string[] {
  return args.map((arg, i) => {
    const prev = args[i - 1];
    if (prev !== undefined && isSecretFlag(prev)) return REDACTED;
    const eq = arg.indexOf('=');
    if (eq > 0 && isSecretFlag(arg.slice(0, eq))) return `${arg.slice(0, eq)}=${REDACTED}`;
    return redactText(arg, { deep: true });
  });
}
