import path from 'node:path';
import type { Config } from './schema.js';
import { REDACTED, isSecretName, redactText, secretArgs } from './secrets.js';
import { readBotTokenFile } from './token.js';

/** Hides secrets in a piece of text alter0 is about to store or print. */
export type Redact = (text: string) => string;

/** Shorter values are too likely to occur by chance ("1", "true", a model name's piece) to be hidden everywhere. */
const MIN_NAMED_SECRET = 4;
const MIN_SECRET = 8;

/**
 * The secret values a configuration carries, as they would appear in an agent's output:
 * - the API token, and the Telegram bot token;
 * - `executor.env` values: those whose name says secret, and every other value of 8+ characters except file paths
 *   and URLs (a URL's password and secret query values are taken instead; the rest of a URL is an address);
 * - the secrets in `executor.*.args` and `executor.command.argv` (see secretArgs).
 */
export function configSecrets(config: Pick<Config, 'executor' | 'telegram'>, token: string | null): string[] {
  const out = new Set<string>();
  if (token !== null && token !== '') out.add(token);
  if (config.telegram.enabled && config.telegram.token_file !== '') {
    try {
      out.add(readBotTokenFile(config.telegram.token_file));
    } catch {
      // the config check reports an unreadable token file; nothing to hide then
    }
  }
  for (const [name, value] of Object.entries(config.executor.env)) {
    if (isSecretName(name)) {
      if (value.length >= MIN_NAMED_SECRET) out.add(value);
      continue;
    }
    if (URL.canParse(value) && /^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
      const u = new URL(value);
      if (u.password !== '') out.add(decodeURIComponent(u.password));
      for (const [k, v] of u.searchParams) if (isSecretName(k) && v.length >= MIN_NAMED_SECRET) out.add(v);
      continue;
    }
    if (value.length >= MIN_SECRET && !path.isAbsolute(value) && !value.startsWith('~/')) out.add(value);
  }
  const { claude, codex, command } = config.executor;
  for (const s of secretArgs([...claude.args, ...codex.args, ...command.argv]))
    if (s.length >= MIN_NAMED_SECRET) out.add(s);
  return [...out];
}

/**
 * The one redactor: replaces each known secret value with `<redacted>`, then hides what looks secret by shape
 * (auth headers, bearer credentials, URL passwords and secret query values, known key formats). Applied to agent
 * stderr before it is stored, to error messages, and to every log record.
 */
export function createRedactor(secrets: readonly string[]): Redact {
  // Longest first, so a secret that contains another is hidden whole.
  const known = [...new Set(secrets)].filter((s) => s !== '').sort((a, b) => b.length - a.length);
  return (text: string): string => {
    if (text === '') return text;
    let out = text;
    for (const s of known) if (out.includes(s)) out = out.split(s).join(REDACTED);
    return redactText(out, { deep: false });
  };
}

/** The redactor for a configuration and its API token (null without one), built once at start-up. */
export function redactorFor(config: Pick<Config, 'executor' | 'telegram'>, token: string | null): Redact {
  return createRedactor(configSecrets(config, token));
}
