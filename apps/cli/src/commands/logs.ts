import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import readline from 'node:readline';
import { ValidationError } from '@alter0/core';
import { parseDuration } from '@alter0/config';
import { loadLocalConfig } from '../config-args.js';
import type { LogsArgs } from '../descriptors/logs.js';
import { output } from '../output.js';

const RANK: Record<string, number> = { debug: 0, info: 1, warn: 2, error: 3 };

interface Filter {
  task?: string;
  job?: string;
  sinceMs?: number;
  minRank: number;
  grep?: RegExp;
}

/** A structured record passes when every given filter matches; unparsable lines never do. */
export function matches(line: string, f: Filter): Record<string, unknown> | null {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (f.task && rec.task_id !== f.task) return null;
  if (f.job && rec.job_id !== f.job) return null;
  if ((RANK[String(rec.level)] ?? 0) < f.minRank) return null;
  if (f.sinceMs !== undefined && Date.parse(String(rec.time)) < f.sinceMs) return null;
  if (f.grep && !f.grep.test(line)) return null;
  return rec;
}

function format(rec: Record<string, unknown>): string {
  const { time, level, message, ...rest } = rec;
  const ctx = ['task_id', 'job_id', 'stage'].filter((k) => rest[k] !== undefined).map((k) => `${k}=${String(rest[k])}`);
  for (const k of ['task_id', 'job_id', 'stage', 'user_id', 'channel_id', 'session_id']) delete rest[k];
  const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
  return `${String(time)} ${String(level).toUpperCase().padEnd(5)} ${String(message)}${ctx.length ? ` [${ctx.join(' ')}]` : ''}${extra}`;
}

/** The log files, oldest first (rotated files sort by their date and index; .gz ones are read compressed). */
function logFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((n) => /^alter0-.*\.log(\.\d+)?(\.gz)?$/.test(n))
    .map((n) => path.join(dir, n))
    .sort((a, b) => fs.statSync(a).mtimeMs - fs.statSync(b).mtimeMs);
}

async function readLines(file: string, onLine: (l: string) => void): Promise<void> {
  const input = file.endsWith('.gz') ? fs.createReadStream(file).pipe(zlib.createGunzip()) : fs.createReadStream(file);
  const rl = readline.createInterface({ input, crlfDelay: Infinity });
  for await (const l of rl) onLine(l);
}

/** `alter0 logs`: the matching records of every log file, oldest first; with --follow, then the new ones. */
export async function logs(a: LogsArgs): Promise<void> {
  const { config } = loadLocalConfig(a);
  const dir = config.log.dir;
  const f: Filter = {
    task: a.task,
    job: a.job,
    minRank: RANK[a.level ?? 'debug'] ?? 0,
    sinceMs: a.since ? Date.now() - parseDuration(a.since) : undefined,
    grep: a.grep ? new RegExp(a.grep) : undefined,
  };
  const files = logFiles(dir);
  if (files.length === 0 && !a.follow) {
    throw new ValidationError(
      `no log files in ${dir}; is log.file enabled and has alter0 run with this data directory?`,
    );
  }
  const emit = (line: string): void => {
    const rec = matches(line, f);
    // Log records carry agent stderr and model text.
    if (rec) {
      if (a.json) output.jsonLine(line);
      else output.text(format(rec));
    }
  };
  for (const file of files) await readLines(file, emit);
  if (!a.follow) return;
  // Follow the current file (the symlink moves at rotation: re-resolve it each poll).
  const current = path.join(dir, 'alter0.log');
  let target = fs.existsSync(current) ? fs.realpathSync(current) : null;
  let offset = target ? fs.statSync(target).size : 0;
  let rest = '';
  for (;;) {
    await new Promise((r) => setTimeout(r, 500));
    if (!fs.existsSync(current)) continue;
    const now = fs.realpathSync(current);
    if (now !== target) {
      target = now;
      offset = 0;
    }
    const size = fs.statSync(target).size;
    if (size <= offset) continue;
    const fd = fs.openSync(target, 'r');
    const buf = Buffer.alloc(size - offset);
    fs.readSync(fd, buf, 0, buf.length, offset);
    fs.closeSync(fd);
    offset = size;
    const text = rest + buf.toString('utf8');
    const lines = text.split('\n');
    rest = lines.pop() ?? '';
    for (const l of lines) emit(l);
  }
}
