import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import type { ExecRequest } from '@alter0/core';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const PROGRAMS = join(FIXTURES, 'programs');
export const NODE = process.execPath;

export function program(name: string): string {
  return join(PROGRAMS, name);
}

export function fixture(...parts: string[]): string {
  return join(FIXTURES, ...parts);
}

export function readFixture(...parts: string[]): string {
  return readFileSync(fixture(...parts), 'utf8');
}

export function tempDir(): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), 'alter0-exec-test-'));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

export function request(over: Partial<ExecRequest> & Pick<ExecRequest, 'cwd'>): ExecRequest {
  return {
    stage: 'execute',
    prompt: 'hello',
    sessionId: null,
    taskId: 't_1',
    jobId: 'j_1',
    timeoutMs: 10_000,
    signal: new AbortController().signal,
    ...over,
  };
}

function procState(pid: number): string | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ')[0] ?? null;
  } catch {
    return null;
  }
}

/** Running = exists and is not a zombie (a zombie is dead, just not yet reaped by init). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const st = procState(pid);
  return st !== null && st !== 'Z' && st !== 'X';
}

function groupMembersRunning(pgid: number): number[] {
  const running: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const text = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') running.push(Number(name));
    } catch {
      // raced with the process exiting
    }
  }
  return running;
}

/**
 * Resolves once `kill(-pgid, 0)` throws ESRCH. Some inits (this CI's microVM PID 1) reap
 * orphans only every couple of seconds, so after `waitMs` a group whose members are all zombies
 * also counts as gone; any running member fails the check.
 */
export async function expectGroupGone(pgid: number, waitMs = 4000): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      process.kill(-pgid, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') return;
      throw err;
    }
    const running = groupMembersRunning(pgid);
    if (running.length > 0) throw new Error(`process group ${pgid} still has running members: ${running.join(', ')}`);
    if (Date.now() >= deadline) return;
    await delay(50);
  }
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

export function readPids(file: string): { child: number; grandchild: number } {
  return JSON.parse(readFileSync(file, 'utf8')) as { child: number; grandchild: number };
}

/**
 * Waits until a program has written `file` (a JSON file: until it parses, since it may be read mid-write).
 * The bound allows for cold Node starts on a loaded two-core machine.
 */
export async function waitForFile(file: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const text = readFileSync(file, 'utf8');
      if (text !== '' && (!file.endsWith('.json') || parses(text))) return;
    } catch {
      // not written yet
    }
    if (Date.now() >= deadline) throw new Error(`${file} was not written within ${ms} ms`);
    await delay(20);
  }
}
