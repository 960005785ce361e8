import fs from 'node:fs';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { ConfigError } from '@alter0/core';

/**
 * Sets one top-level string setting in a config file, keeping everything else as written: in TOML the key's
 * line is replaced, or a new line goes first (top-level keys must come before any [table]); a JSON file is
 * rewritten with the key set. A missing file is created with mode 0600. Returns what was done, for the message.
 */
export function setTopLevelString(file: string, key: string, value: string): 'created' | 'replaced' | 'added' {
  const line = `${key} = ${JSON.stringify(value)}`;
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const text = file.toLowerCase().endsWith('.json') ? `${JSON.stringify({ [key]: value }, null, 2)}\n` : `${line}\n`;
    fs.writeFileSync(file, text, { mode: 0o600, flag: 'wx' });
    fs.chmodSync(file, 0o600);
    return 'created';
  }
  const text = fs.readFileSync(file, 'utf8');
  let next: string;
  let how: 'replaced' | 'added';
  if (file.toLowerCase().endsWith('.json')) {
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch (err) {
      throw new ConfigError(
        `cannot set ${key} in ${file}: not valid JSON (${err instanceof Error ? err.message : String(err)}); fix the file first`,
      );
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj))
      throw new ConfigError(`cannot set ${key} in ${file}: the file is not a JSON object; fix the file first`);
    how = key in obj ? 'replaced' : 'added';
    next = `${JSON.stringify({ ...obj, [key]: value }, null, 2)}\n`;
  } else {
    const lines = text.split('\n');
    const firstTable = lines.findIndex((l) => /^\s*\[/.test(l));
    const top = firstTable < 0 ? lines.length : firstTable;
    const at = lines.slice(0, top).findIndex((l) => new RegExp(`^\\s*${key}\\s*=`).test(l));
    if (at >= 0) {
      lines[at] = line;
      how = 'replaced';
    } else {
      lines.unshift(line);
      how = 'added';
    }
    next = lines.join('\n');
    // Never write a file that no longer reads back as intended (a multi-line value this line scan misread).
    let check: unknown;
    try {
      check = parseToml(next)[key];
    } catch {
      check = undefined;
    }
    if (check !== value)
      throw new ConfigError(
        `cannot set ${key} in ${file} safely; add the line ${line} at the top of the file yourself`,
      );
  }
  // Written beside and renamed, so a crash never leaves half a config; the file keeps its mode.
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, next, { mode: fs.statSync(file).mode & 0o777 & ~0o077 });
  fs.renameSync(tmp, file);
  return how;
}
