import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { Store } from '@alter0/store';
import { cli, serve, tempDir } from './harness.js';
import type { Served } from './harness.js';

const dirs: string[] = [];
const daemons: Served[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.cleanup();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function scratch(): string {
  const d = tempDir('alter0-doctor-');
  dirs.push(d);
  return d;
}

interface Check {
  check: string;
  ok: boolean;
  fatal: boolean;
  detail: string;
  fix: string | null;
}
const checks = (stdout: string): Check[] => (JSON.parse(stdout) as { checks: Check[] }).checks;

describe('alter0 doctor', () => {
  it('passes on a fresh data directory and finds the command executor', async () => {
    const d = scratch();
    const r = await cli(['doctor', '--data', path.join(d, 'data'), '--command', process.execPath, '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const cs = checks(r.stdout);
    expect(cs.map((c) => c.check)).toEqual([
      'config',
      'permissions',
      'data directory',
      'database',
      'schema',
      'disk space',
      'lock',
      'shared machine',
      'executor command',
    ]);
    // 'shared machine' warns when this machine has other login users (it may): every other check passes.
    expect(cs.filter((c) => c.check !== 'shared machine').every((c) => c.ok)).toBe(true);
    const text = await cli(['doctor', '--data', path.join(d, 'data'), '--no-executors']);
    expect(text.stdout).toMatch(/^CHECK\s+RESULT\s+DETAIL \/ WHAT TO DO/);
    expect(text.stdout).toMatch(
      cs.find((c) => c.check === 'shared machine')?.ok === true
        ? /all checks passed\n$/
        : /1 warning\(s\): alter0 can serve, degraded\n$/,
    );
  });

  it('exits 78 for a config error and says what to fix', async () => {
    const d = scratch();
    const bad = path.join(d, 'alter0.toml');
    fs.writeFileSync(bad, '[queue]\ninteractive_workers = 0\n');
    const r = await cli(['doctor', '--config', bad]);
    expect(r.code).toBe(78);
    expect(r.stdout).toMatch(
      /^config\s+FATAL\s+invalid configuration[^\n]*\n\s+\S*alter0\.toml: queue\.interactive_workers: must be at least 1/m,
    );
    expect(r.stdout).toContain('-> fix the settings named above');
  });

  it('exits 78 for a database written by a newer alter0', async () => {
    const d = scratch();
    const data = path.join(d, 'data');
    Store.open({ file: path.join(data, 'alter0.db') }).close();
    const db = new Database(path.join(data, 'alter0.db'));
    db.prepare('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)').run('future', Date.now() + 1e12);
    db.close();
    const r = await cli(['doctor', '--data', data, '--no-executors']);
    expect(r.code).toBe(78);
    expect(r.stdout).toMatch(/schema\s+FATAL\s+.*newer than this alter0 knows/);
  });

  it('exits 1 while another alter0 holds the data directory, naming its pid', async () => {
    const d = scratch();
    const data = path.join(d, 'data');
    const s = await serve({ data });
    daemons.push(s);
    const r = await cli(['doctor', '--data', data, '--no-executors', '--json']);
    expect(r.code).toBe(1);
    const lock = checks(r.stdout).find((c) => c.check === 'lock')!;
    expect(lock).toMatchObject({ ok: false, fatal: true });
    expect(lock.detail).toContain(`pid ${s.proc.pid}`);
    // The database check reads it while the daemon writes it: fine.
    expect(checks(r.stdout).find((c) => c.check === 'database')?.ok).toBe(true);
  });

  it('a missing executor is a warning: exit 0, with the install hint', async () => {
    const d = scratch();
    const r = await cli(['doctor', '--data', path.join(d, 'data'), '--command', 'alter0-no-such-agent-xyz']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/executor command\s+WARN/);
    expect(r.stdout).toContain('executor.command.argv');
  });
});
