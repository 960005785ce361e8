import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { reapOrphanGroups } from '../src/orphans.js';

// A record in <data>/run/groups is a kill order for the next start: only records this user wrote, in a folder no one
// else can write, may be obeyed (defect 10: a planted file made start-up SIGKILL another process group).

const dirs: string[] = [];
const pids: number[] = [];
afterEach(() => {
  for (const pid of pids.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A process in a group of its own, as an innocent bystander (or an agent) would be. */
function victim(): number {
  const p = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { detached: true, stdio: 'ignore' });
  p.unref();
  if (p.pid === undefined) throw new Error('could not start the test process');
  pids.push(p.pid);
  return p.pid;
}

function groups(mode: number): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'alter0-orphans-'));
  dirs.push(d);
  const g = path.join(d, 'run', 'groups');
  fs.mkdirSync(g, { recursive: true });
  fs.chmodSync(g, mode);
  return g;
}

function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

async function deadSoon(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  return !alive(pid);
}

describe('the start-up reaper trusts only its own records (10)', () => {
  it('ignores every record in a folder other users can write, and says why', async () => {
    const dir = groups(0o777);
    const pid = victim();
    fs.writeFileSync(path.join(dir, String(pid)), '\n\n');
    const problems: string[] = [];
    expect(reapOrphanGroups(dir, { onUntrusted: (p) => problems.push(p) })).toBe(0);
    expect(alive(pid)).toBe(true);
    expect(problems).toEqual([
      `process-group folder ${dir} has mode 0777: other users can write to it and change what alter0 does; run: chmod 700 ${dir} (after checking its contents); no recorded agent process was killed`,
    ]);
  });

  it.runIf(process.getuid?.() === 0)('ignores a record another user owns', async () => {
    const dir = groups(0o700);
    const pid = victim();
    const file = path.join(dir, String(pid));
    fs.writeFileSync(file, '\n\n', { mode: 0o600 });
    fs.chownSync(file, 1000, 1000);
    const problems: string[] = [];
    expect(reapOrphanGroups(dir, { onUntrusted: (p) => problems.push(p) })).toBe(0);
    expect(alive(pid)).toBe(true);
    expect(problems[0]).toContain(`process-group record ${file} belongs to uid 1000`);
  });

  it('ignores a symlinked record', async () => {
    const dir = groups(0o700);
    const pid = victim();
    const target = path.join(path.dirname(dir), 'elsewhere');
    fs.writeFileSync(target, '\n\n', { mode: 0o600 });
    fs.symlinkSync(target, path.join(dir, String(pid)));
    expect(reapOrphanGroups(dir)).toBe(0);
    expect(alive(pid)).toBe(true);
  });

  it('still reaps its own record in its own private folder', async () => {
    const dir = groups(0o700);
    const pid = victim();
    fs.writeFileSync(path.join(dir, String(pid)), '\n\n', { mode: 0o600 });
    expect(reapOrphanGroups(dir)).toBe(1);
    expect(await deadSoon(pid)).toBe(true);
  });
});
