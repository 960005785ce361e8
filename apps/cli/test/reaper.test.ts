import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { newId } from '@alter0/core';
import { RecordedProcessGroups, reapOrphanGroups } from '@alter0/daemon';
import { tempDir, until } from './harness.js';

// The daemon's start-up reaper, with the shape of claude's Bash tool: the CLI (detached, its own group, as the
// executor starts it) starts a tool in a session of its own, which a SIGKILL of the CLI does not reach.
const CLI = `
const { spawn } = require('node:child_process');
const tool = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { detached: true, stdio: 'ignore' });
require('node:fs').writeFileSync('pids.json', JSON.stringify({ cli: process.pid, tool: tool.pid }));
setInterval(() => {}, 1000);
`;

const dirs: string[] = [];
const pids: number[] = [];
afterEach(() => {
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** Exists and is not a zombie (a killed orphan may wait a while for PID 1 to reap it). */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

async function agent(env: Record<string, string> = {}): Promise<{ cli: number; tool: number; dir: string }> {
  const dir = tempDir('alter0-reaper-');
  dirs.push(dir);
  const cli = spawn(process.execPath, ['-e', CLI], {
    cwd: dir,
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, ...env },
  });
  cli.unref();
  const file = path.join(dir, 'pids.json');
  const p = await until(() => pidsIn(file), { timeoutMs: 20_000, what: 'the agent to start its tool' });
  pids.push(p.cli, p.tool);
  return { ...p, dir };
}

/** The pids the agent wrote, once the whole file is there (it may be read while being written). */
function pidsIn(file: string): { cli: number; tool: number } | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as { cli: number; tool: number };
  } catch {
    return null;
  }
}

async function gone(ps: number[]): Promise<true> {
  return until(() => ps.every((p) => !running(p)), {
    timeoutMs: 15_000,
    what: `processes ${ps.join(', ')} to be gone`,
  });
}

function groupsDir(): string {
  const d = tempDir('alter0-groups-');
  dirs.push(d);
  return path.join(d, 'run', 'groups');
}

describe('reapOrphanGroups', () => {
  it('kills the recorded CLI and the tool it started in a session of its own (CLI still alive)', async () => {
    const dir = groupsDir();
    const a = await agent();
    // As after a kill -9 of the daemon: the record stays on disk, the next start reaps it.
    new RecordedProcessGroups(dir).add(a.cli);
    expect(reapOrphanGroups(dir)).toBe(1);
    await gone([a.cli, a.tool]);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it("kills the tools of a CLI that already died, by the job id in their environment, and nobody else's", async () => {
    const dir = groupsDir();
    const jobId = newId('j');
    const a = await agent({ ALTER0_JOB_ID: jobId });
    const other = await agent({ ALTER0_JOB_ID: newId('j') });
    new RecordedProcessGroups(dir).add(a.cli, jobId);
    // The CLI dies after the daemon: its tool is reparented to PID 1 (or a subreaper), out of the recorded tree.
    process.kill(a.cli, 'SIGKILL');
    await gone([a.cli]);
    expect(running(a.tool)).toBe(true);
    expect(reapOrphanGroups(dir)).toBe(1);
    await gone([a.tool]);
    expect(running(other.cli)).toBe(true);
    expect(running(other.tool)).toBe(true);
  });

  it('leaves alone a group whose leader pid was reused by another process (start time differs)', async () => {
    const dir = groupsDir();
    const a = await agent();
    fs.mkdirSync(dir, { recursive: true });
    // A record from a previous boot (another start time), and no job id: the pid now names someone else.
    fs.writeFileSync(path.join(dir, String(a.cli)), '1\n\n');
    expect(reapOrphanGroups(dir)).toBe(0);
    expect(running(a.cli)).toBe(true);
    expect(running(a.tool)).toBe(true);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('reads records written before job ids were recorded (start time only)', async () => {
    const dir = groupsDir();
    const a = await agent();
    const stat = fs.readFileSync(`/proc/${a.cli}/stat`, 'utf8');
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, String(a.cli)), start);
    expect(reapOrphanGroups(dir)).toBe(1);
    await gone([a.cli, a.tool]);
  });
});
