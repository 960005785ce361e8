import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as v from 'valibot';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExecutorError } from '@alter0/core';
import { CaseFileError, loadJsonLines } from '../src/jsonl.js';
import { replayExecutor } from '../src/replay.js';

describe('replayExecutor', () => {
  it('answers with the recorded output, or fails with ExecutorError exit when there is none', async () => {
    const signal = new AbortController().signal;
    const req = {
      stage: 'route' as const,
      prompt: 'p',
      sessionId: null,
      taskId: null,
      jobId: null,
      cwd: '/',
      timeoutMs: 1000,
      signal,
    };
    await expect(replayExecutor('hi').run(req)).resolves.toMatchObject({ text: 'hi' });
    const err = await replayExecutor(undefined)
      .run(req)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecutorError);
    expect((err as ExecutorError).errorClass).toBe('exit');
  });
});

describe('loadJsonLines', () => {
  const Case = v.object({ id: v.string(), n: v.number() });
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'alter0-jsonl-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads every *.jsonl of a directory in name order, skipping blank lines, with each line as its source', () => {
    writeFileSync(join(dir, 'b.jsonl'), '{"id":"b","n":2}\n');
    writeFileSync(join(dir, 'a.jsonl'), '\n{"id":"a","n":1,"extra":true}\n');
    writeFileSync(join(dir, 'notes.txt'), 'ignored');
    expect(loadJsonLines(dir, Case)).toEqual([
      { id: 'a', n: 1, source: `${join(dir, 'a.jsonl')}:2` },
      { id: 'b', n: 2, source: `${join(dir, 'b.jsonl')}:1` },
    ]);
  });

  it('collects every bad line (not JSON, schema, check, repeated id) into one CaseFileError', () => {
    const file = join(dir, 'c.jsonl');
    writeFileSync(
      file,
      ['{"id":"ok","n":1}', 'nope', '{"id":"x"}', '{"id":"neg","n":-1}', '{"id":"ok","n":3}'].join('\n'),
    );
    const err = (() => {
      try {
        loadJsonLines(file, Case, (c) => (c.n < 0 ? 'n must not be negative' : null));
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(CaseFileError);
    expect((err as CaseFileError).problems.map((p) => p.where)).toEqual([
      `${file}:2`,
      `${file}:3`,
      `${file}:4`,
      `${file}:5`,
    ]);
    expect((err as CaseFileError).message).toContain(`${file}:4: n must not be negative`);
    expect((err as CaseFileError).message).toContain(`${file}:5: case id ok already used at ${file}:1`);
  });
});
