import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConfigError } from '@alter0/core';
import { trustProblem } from './trust.js';

/** 32 characters: 128 bits even in hex, the least dense encoding people use for tokens. */
export const MIN_TOKEN_CHARS = 32;

/**
 * Reads the API token from `file` and checks what makes it safe to rely on: a regular file that
 * only its owner can read or write (mode 0600 or 0400) holding one token of at least
 * MIN_TOKEN_CHARS non-space characters. Throws ConfigError saying how to fix it.
 */
export function readTokenFile(file: string): string {
  const howto = `(umask 077; openssl rand -hex 32 > ${file})`;
  const token = readSecretFile(file, 'token file', `create it with: ${howto}`);
  if (token.length < MIN_TOKEN_CHARS) {
    throw new ConfigError(
      `token in ${file} has ${token.length} characters, fewer than ${MIN_TOKEN_CHARS}; write a new one with: ${howto}`,
    );
  }
  return token;
}

/** A Telegram bot token as @BotFather gives it: the bot's numeric id, a colon, then 30+ URL-safe characters. */
const BOT_TOKEN_RE = /^\d{3,}:[A-Za-z0-9_-]{30,}$/;

/** Reads the Telegram bot token from `file`, held to the same file rules as the API token (readTokenFile). */
export function readBotTokenFile(file: string): string {
  const token = readSecretFile(
    file,
    'telegram token file',
    `write the token @BotFather gave into it: (umask 077; cat > ${file})`,
  );
  if (!BOT_TOKEN_RE.test(token)) {
    throw new ConfigError(
      `telegram token file ${file} does not hold a bot token (digits, a colon, then letters, like 123456:AAE…); copy the token @BotFather gave, on one line`,
    );
  }
  return token;
}

/** A regular file only its owner can read or write, holding one secret on one line without spaces. */
function readSecretFile(file: string, what: string, missingHowto: string): string {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (err) {
    const code = err instanceof Error && 'code' in err ? String(err.code) : '';
    throw new ConfigError(
      code === 'ENOENT'
        ? `${what} ${file} does not exist; ${missingHowto}`
        : `cannot read ${what} ${file}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (!st.isFile()) throw new ConfigError(`${what} ${file} is not a regular file`);
  const untrusted = trustProblem(file, st, what);
  if (untrusted !== null) throw new ConfigError(untrusted);
  const perm = st.mode & 0o777;
  if ((perm & 0o077) !== 0) {
    throw new ConfigError(
      `${what} ${file} has mode ${perm.toString(8).padStart(4, '0')}, so other users can read or change it; run: chmod 600 ${file}`,
    );
  }
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read ${what} ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const token = text.trim();
  if (/\s/.test(token)) throw new ConfigError(`${what} ${file} must hold one token on one line, without spaces`);
  return token;
}

/** 32 random bytes as hex: 64 characters, 256 bits. */
export function newToken(): string {
  return randomBytes(32).toString('hex');
}

/**
 * Writes a new random token to `file` with mode 0600 (whatever the umask), creating its folder (0700) when missing.
 * Refuses to replace an existing file unless `replace`; a replacement is written beside it and renamed over it, so
 * the file always holds a whole token. Returns the token.
 */
export function writeTokenFile(file: string, opts: { replace?: boolean } = {}): string {
  const dir = path.dirname(file);
  if (!fs.existsSync(dir)) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const token = newToken();
  const target = opts.replace === true ? `${file}.new-${process.pid}` : file;
  let fd: number;
  try {
    fd = fs.openSync(target, 'wx', 0o600);
  } catch (err) {
    const code = err instanceof Error && 'code' in err ? String(err.code) : '';
    throw new ConfigError(
      code === 'EEXIST'
        ? `token file ${file} already exists; keep using it, or pass --force to replace it (clients holding the old token then get 401)`
        : `cannot create token file ${file}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  try {
    fs.fchmodSync(fd, 0o600);
    fs.writeSync(fd, `${token}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  if (target !== file) fs.renameSync(target, file);
  return token;
}
