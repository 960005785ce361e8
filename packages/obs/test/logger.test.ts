import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, ExecutorError } from '@alter0/core';
import { createLogger, LineBuffer, type Logger, type LoggerOptions } from '../src/logger.js';

let dir: string;
const open: Logger[] = [];
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alter0-obs-'));
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((l) => l.close()));
  fs.rmSync(dir, { recursive: true, force: true });
});

function make(over: Partial<LoggerOptions> = {}): { log: Logger; buf: LineBuffer } {
  const buf = new LineBuffer();
  const log = createLogger({
    level: 'debug',
    dir,
    maxSize: '20m',
    maxFiles: '14d',
    console: false,
    stream: buf,
    ...over,
  });
  open.push(log);
  return { log, buf };
}

type Rec = Record<string, unknown>;
const parse = (lines: readonly string[]): Rec[] => lines.filter((l) => l !== '').map((l) => JSON.parse(l) as Rec);

/** Every record in the log folder, compressed archives included. */
function fileRecords(d: string): Rec[] {
  const out: Rec[] = [];
  for (const f of fs.readdirSync(d).sort()) {
    if (!f.startsWith('alter0-')) continue;
    let data = fs.readFileSync(path.join(d, f));
    if (f.endsWith('.gz')) data = zlib.gunzipSync(data);
    out.push(...parse(data.toString('utf8').split('\n')));
  }
  return out;
}

describe('createLogger', () => {
  it('writes JSON lines with the child context to the stream and the file', async () => {
    const { log, buf } = make();
    const job = log.child({
      job_id: 'j_1',
      task_id: 't_1',
      channel_id: 'http',
      user_id: 'owner',
      session_id: 's',
      stage: 'route',
    });
    job.info('routed', { confidence: 0.9 });
    await log.close();
    const fromStream = parse(buf.lines);
    const fromFile = fileRecords(dir);
    for (const recs of [fromStream, fromFile]) {
      expect(recs).toHaveLength(1);
      expect(recs[0]).toMatchObject({
        level: 'info',
        message: 'routed',
        job_id: 'j_1',
        task_id: 't_1',
        channel_id: 'http',
        user_id: 'owner',
        session_id: 's',
        stage: 'route',
        confidence: 0.9,
      });
      expect(Date.parse(String(recs[0]?.time))).not.toBeNaN();
    }
    expect(fs.readlinkSync(path.join(dir, 'alter0.log'))).toMatch(/^alter0-\d{4}-\d{2}-\d{2}\.log$/);
  });

  it('keeps each child its own fields and never carries call fields over', async () => {
    const { log, buf } = make({ dir: null });
    const a = log.child({ job_id: 'a', stage: 'route' });
    const b = log.child({ job_id: 'b' });
    const a2 = a.child({ stage: 'execute', task_id: 't' });
    log.info('root');
    a.info('in a', { extra: 1 });
    b.info('in b');
    a2.info('in a2');
    a.info('in a again');
    await log.close();
    const [root, inA, inB, inA2, inAAgain] = parse(buf.lines);
    expect(root).not.toHaveProperty('job_id');
    expect(root).not.toHaveProperty('stage');
    expect(inA).toMatchObject({ job_id: 'a', stage: 'route', extra: 1 });
    expect(inB).toMatchObject({ job_id: 'b' });
    expect(inB).not.toHaveProperty('stage');
    expect(inA2).toMatchObject({ job_id: 'a', stage: 'execute', task_id: 't' });
    expect(inAAgain).toMatchObject({ job_id: 'a', stage: 'route' });
    expect(inAAgain).not.toHaveProperty('extra');
    expect(inAAgain).not.toHaveProperty('task_id');
  });

  it('serializes an err field with name, message, code and stack, and its own fields and cause', async () => {
    const { log, buf } = make({ dir: null });
    const cause = new Error('socket hang up');
    log.error('run failed', {
      err: new ExecutorError('timeout', 'claude took longer than 120s', { stderrTail: 'tail', exitCode: null, cause }),
    });
    log.warn('bad config', { err: new ConfigError('listen: invalid') });
    await log.close();
    const [first, second] = parse(buf.lines);
    expect(first?.err).toMatchObject({
      name: 'ExecutorError',
      message: 'claude took longer than 120s',
      code: 'executor_timeout',
      errorClass: 'timeout',
      stderrTail: 'tail',
      exitCode: null,
      cause: { name: 'Error', message: 'socket hang up' },
    });
    expect(String((first?.err as Rec).stack)).toContain('ExecutorError: claude took longer');
    expect(second?.err).toMatchObject({ name: 'ConfigError', message: 'listen: invalid', code: 'config' });
  });

  it('drops records below the level and survives cycles and bigints', async () => {
    const { log, buf } = make({ dir: null, level: 'warn' });
    const cyclic: Rec = { a: 1 };
    cyclic.self = cyclic;
    log.debug('no');
    log.info('no');
    log.warn('yes', { cyclic, big: 10n, same: [cyclic.a, cyclic.a] });
    expect(log.isLevelEnabled('info')).toBe(false);
    expect(log.isLevelEnabled('error')).toBe(true);
    await log.close();
    const recs = parse(buf.lines);
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ message: 'yes', cyclic: { a: 1, self: '[Circular]' }, big: '10', same: [1, 1] });
  });

  it('refuses context fields per call at compile time and unknown levels at run time', () => {
    const { log } = make({ dir: null });
    // @ts-expect-error job_id belongs in child(), not in a call
    log.info('x', { job_id: 'j' });
    expect(() =>
      createLogger({ level: 'verbose' as 'info', dir: null, maxSize: '1m', maxFiles: '1', console: false }),
    ).toThrow(/unknown log level "verbose"/);
  });

  it('writes to stderr when console is on, and after close only there', async () => {
    const writes: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      writes.push(chunk.toString());
      return true;
    });
    try {
      const log = createLogger({ level: 'info', dir: null, maxSize: '1m', maxFiles: '1', console: true });
      log.child({ task_id: 't' }).info('hello');
      await log.close();
      await log.close();
      log.info('late');
      const recs = parse(writes.join('').split('\n'));
      expect(recs.map((r) => r.message)).toEqual(['hello', 'late']);
      expect(recs[0]?.task_id).toBe('t');
    } finally {
      spy.mockRestore();
    }
  });
});

describe('file rotation', () => {
  it('rotates by size under concurrent writers and loses no line', { timeout: 30_000 }, async () => {
    const { log, buf } = make({ maxSize: '1k' });
    const writers = 4;
    const perWriter = 400;
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        const child = log.child({ job_id: `j_${w}` });
        for (let i = 0; i < perWriter; i++) {
          child.info('tick', { i, pad: 'x'.repeat(i % 40) });
          if (i % 25 === 0) await new Promise((r) => setImmediate(r));
        }
      }),
    );
    await log.close();
    const files = fs.readdirSync(dir);
    expect(files.filter((f) => f.endsWith('.gz')).length).toBeGreaterThan(10);
    // Only the file being written when the logger closed stays uncompressed.
    expect(files.filter((f) => /^alter0-.*\.log(\.\d+)?$/.test(f))).toHaveLength(1);
    const seen = new Map<string, number>();
    for (const r of fileRecords(dir)) {
      const key = `${String(r.job_id)}:${String(r.i)}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    expect(seen.size).toBe(writers * perWriter);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(buf.lines.filter((l) => l !== '')).toHaveLength(writers * perWriter);
  });

  it('keeps only maxFiles files, compressed ones included', { timeout: 30_000 }, async () => {
    const { log } = make({ maxSize: '1k', maxFiles: '3' });
    for (let i = 0; i < 300; i++) {
      log.info('tick', { i, pad: 'y'.repeat(50) });
      if (i % 20 === 0) await new Promise((r) => setImmediate(r));
    }
    await log.close();
    const logs = fs.readdirSync(dir).filter((f) => f.startsWith('alter0-'));
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.length).toBeLessThanOrEqual(3);
  });
});
