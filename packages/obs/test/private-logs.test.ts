import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExecutorError } from '@alter0/core';
import { createLogger, LineBuffer } from '../src/logger.js';

let dir: string;
let umask: number;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alter0-obs-private-'));
  // The usual umask: without explicit modes everything would be world-readable.
  umask = process.umask(0o022);
});
afterEach(() => {
  process.umask(umask);
  fs.rmSync(dir, { recursive: true, force: true });
});

const SECRET = 'sup3r-s3cret-value';
const redact = (t: string): string => t.split(SECRET).join('<redacted>');

describe('log files are private (9)', () => {
  it(
    'creates the folder 0700 and every file (current, rotated .gz, audit) 0600 under umask 022',
    { timeout: 30_000 },
    async () => {
      const logs = path.join(dir, 'logs');
      const log = createLogger({ level: 'info', dir: logs, maxSize: '1k', maxFiles: '14d', console: false });
      for (let i = 0; i < 200; i++) log.info('tick', { i, pad: 'x'.repeat(40) });
      await log.close();
      expect(fs.statSync(logs).mode & 0o777).toBe(0o700);
      const files = fs.readdirSync(logs).filter((f) => f !== 'alter0.log');
      expect(files.some((f) => f.endsWith('.gz'))).toBe(true);
      expect(files).toContain('.alter0-log-audit.json');
      for (const f of files) expect(fs.statSync(path.join(logs, f)).mode & 0o777, f).toBe(0o600);
    },
  );
});

describe('log output is redacted (11)', () => {
  it('hides secrets in the message, fields and errors, on the stream and in the file', async () => {
    const buf = new LineBuffer();
    const log = createLogger({
      level: 'info',
      dir,
      maxSize: '20m',
      maxFiles: '14d',
      console: false,
      stream: buf,
      redact,
    });
    log.child({ job_id: 'j_1' }).warn(`agent said ${SECRET}`, {
      stderr_tail: `line\n${SECRET}\n`,
      nested: { deep: [SECRET] },
      err: new ExecutorError('auth', `auth failed: ${SECRET}`, { stderrTail: SECRET }),
    });
    await log.close();
    const file = fs.readdirSync(dir).find((f) => /^alter0-.*\.log$/.test(f));
    const written = [buf.lines.join('\n'), fs.readFileSync(path.join(dir, file ?? ''), 'utf8')];
    for (const text of written) {
      expect(text).not.toContain(SECRET);
      expect(text).toContain('agent said <redacted>');
      expect(text).toContain('"job_id":"j_1"');
    }
  });
});
