import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';

let dir = '';
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/**
 * The soak's day profile found this: with `log.file` on, a full disk crashed the daemon (an unhandled 'error' of the
 * log file's stream: "Error: ENOSPC: no space left on device, write"). /dev/full refuses every write with ENOSPC, so
 * today's log file pointed at it is a full disk without a small file system or root.
 */
it('a log file the disk refuses is reported once, and the process and the other destinations go on', async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alter0-obs-full-'));
  const today = new Date().toISOString().slice(0, 10);
  fs.symlinkSync('/dev/full', path.join(dir, `alter0-${today}.log`));
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on('data', (b: Buffer) => lines.push(...b.toString().split('\n').filter(Boolean)));
  const errors: Error[] = [];
  const log = createLogger({
    level: 'info',
    dir,
    maxSize: '1m',
    maxFiles: '2',
    console: false,
    stream,
    onError: (err) => errors.push(err),
  });
  for (let i = 0; i < 200; i++) {
    log.info('a line the file cannot take', { i });
    if (i % 20 === 0) await sleep(5);
  }
  await sleep(200);
  for (let i = 200; i < 210; i++) log.info('after the failure', { i });
  await sleep(100);
  // Every record still reached the other destination, in order, after the file failed.
  expect(lines.filter((l) => l.includes('after the failure'))).toHaveLength(10);
  expect(lines).toHaveLength(210);
  expect(errors.length).toBe(1);
  expect(errors[0]?.message).toMatch(/cannot write the log file; the log goes on to stderr: ENOSPC/);
  await log.close();
});
