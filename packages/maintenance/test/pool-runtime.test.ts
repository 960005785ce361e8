import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '@alter0/store';
import { MaintenancePool } from '../src/pool.js';
import { backup } from '../src/backup.js';

// The daemon runs its maintenance in child processes (runtime child_process), the CLI in worker threads: the same
// operations must work, and be abortable, either way.
const dirs: string[] = [];
const pools: MaintenancePool[] = [];
afterEach(async () => {
  for (const p of pools.splice(0)) await p.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function database(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alter0-pool-'));
  dirs.push(dir);
  const file = path.join(dir, 'alter0.db');
  Store.open({ file }).close();
  return file;
}

describe.each(['worker_threads', 'child_process'] as const)('maintenance pool (%s)', (runtime) => {
  it('checks a database and takes a verified backup', async () => {
    const pool = new MaintenancePool({ runtime });
    pools.push(pool);
    const file = database();
    const check = await pool.run({ op: 'check', file, level: 'quick', live: true });
    expect(check.ok).toBe(true);
    const out = await backup({
      dbFile: file,
      backupDir: path.join(path.dirname(file), 'backups'),
      reason: 'manual',
      keep: 3,
      pool,
    });
    expect(fs.existsSync(out.path)).toBe(true);
  });

  it('an aborted operation rejects, and the next one runs', async () => {
    const pool = new MaintenancePool({ runtime });
    pools.push(pool);
    const file = database();
    const ac = new AbortController();
    const pending = pool.run({ op: 'check', file, level: 'integrity', live: true }, ac.signal);
    ac.abort(new Error('stop'));
    await expect(pending).rejects.toThrow();
    expect((await pool.run({ op: 'check', file, level: 'quick', live: true })).ok).toBe(true);
  });

  it('a failed operation rejects with an Error that says what failed', async () => {
    const pool = new MaintenancePool({ runtime });
    pools.push(pool);
    const missing = path.join(os.tmpdir(), 'alter0-no-such-dir', 'alter0.db');
    const err: unknown = await pool
      .run({ op: 'stats_rollup', dbFile: missing, now: Date.now(), samples: [], busyTimeoutMs: 100 })
      .catch((e: unknown) => e);
    // The child_process runtime hands back the child's error as a plain object: logged, it read "[object Object]".
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/directory does not exist/);
    expect((err as Error).name).toBe('TypeError');
  });
});
