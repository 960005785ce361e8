import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Job } from '@alter0/api';
import type { Served } from './harness.js';
import { longTests } from '@alter0/testkit';
import { liveProcess, readAgentLog, serve, tempDir, until } from './harness.js';

// Crash loop (invariants 1 and 8, docs/architecture.md): under load from concurrent submitters, `kill -9` the real daemon at random moments
// many times, restarting it each time. Nothing accepted may be lost, nothing may stay `running`, no agent
// process may survive, and the database must pass integrity_check after every restart.
// 8 by default; 30 with ALTER0_LONG_TESTS=1 (CI's long mode); CRASH_LOOP_KILLS overrides both.
const KILLS = Number(process.env.CRASH_LOOP_KILLS ?? (longTests() ? 30 : 8));

const running: Served[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.cleanup();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function integrity(file: string): string {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return String(db.pragma('integrity_check', { simple: true }));
  } finally {
    db.close();
  }
}

describe('crash loop', () => {
  it(
    `survives ${KILLS} kill -9 under load: every accepted job ends terminal, none running, no orphans, integrity ok`,
    { timeout: 900_000 },
    async () => {
      const data = tempDir('alter0-crash-');
      dirs.push(data);
      const log = path.join(data, 'agent.log');
      const dbFile = path.join(data, 'alter0.db');
      const args = [
        '--set',
        'queue.backoff_initial_ms=100',
        '--set',
        'queue.interactive_workers=3',
        '--set',
        'queue.background_workers=2',
        '--set',
        'log.file=false',
      ];
      let s = await serve({ data, env: { AGENT_LOG: log }, args });
      running.push(s);
      const accepted = new Set<string>();
      let up = true;
      let stop = false;
      let seq = 0;
      const contents = [
        'quick',
        'sleep 200',
        'quick',
        'sleep 800',
        'quick',
        'quick',
        'sleep 200',
        'quick',
        'quick',
        'spawn-tree',
      ];
      const submitter = async (): Promise<void> => {
        while (!stop) {
          if (!up) {
            await new Promise((r) => setTimeout(r, 20));
            continue;
          }
          const n = seq++;
          const content = `${contents[n % contents.length]} #${n}`;
          try {
            const r = await fetch(`${s.url}/api/jobs`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              // spawn-tree jobs hang until their 2 s timeout: the daemon must kill their whole tree.
              body: JSON.stringify({
                content,
                lane: n % 3 === 0 ? 'background' : 'interactive',
                ...(content.startsWith('spawn-tree')
                  ? { timeout_s: 1, max_attempts: 1 }
                  : { timeout_s: 5, max_attempts: 3 }),
              }),
            });
            if (r.status === 202) accepted.add(((await r.json()) as { job_id: string }).job_id);
          } catch {
            // The daemon died mid-request: this message was not acknowledged, so it may or may not exist.
          }
          await new Promise((r) => setTimeout(r, 250));
        }
      };
      const submitters = [submitter(), submitter(), submitter()];
      let restarts = 0;
      for (let i = 0; i < KILLS; i++) {
        await new Promise((r) => setTimeout(r, 250 + Math.floor(Math.random() * 700)));
        up = false;
        const before = readAgentLog(log)
          .flatMap((e) => [e.pid, e.grandchild])
          .filter((p): p is number => typeof p === 'number');
        await s.stop('SIGKILL');
        running.splice(running.indexOf(s), 1);
        s = await serve({ data, env: { AGENT_LOG: log }, args });
        running.push(s);
        restarts++;
        up = true;
        expect(integrity(dbFile), `integrity after restart ${restarts}`).toBe('ok');
        // Every agent process of the killed daemon was reaped at start.
        await until(() => before.every((p) => !liveProcess(p)), {
          timeoutMs: 15_000,
          what: `agent processes of the killed daemon to be gone (restart ${restarts})`,
        });
      }
      stop = true;
      await Promise.all(submitters);
      expect(accepted.size).toBeGreaterThan(KILLS);
      // Let the queue drain: every accepted job reaches a terminal state.
      let last: Job[] = [];
      const final = await until(
        async () => {
          last = await Promise.all([...accepted].map((id) => s.client.getJob(id)));
          return last.every((j) => ['succeeded', 'failed', 'canceled'].includes(j.state)) && last;
        },
        // Routing is serialized per user and each job starts two or three agent processes: on a loaded
        // machine (two test files at once) a 30-kill run's backlog of ~200 jobs takes minutes to drain. The
        // bound grows with the backlog; a stuck job still fails it.
        { timeoutMs: Math.max(150_000, accepted.size * 2_000), what: 'every accepted job to be terminal' },
      ).catch(async (err: unknown) => {
        const open = last.filter((j) => !['succeeded', 'failed', 'canceled'].includes(j.state));
        // What the daemon says of its queue (an unrecorded outcome, a failing write) and its last log lines, so
        // a stuck job can be explained from the failure alone.
        const queue = await s.client.status().then(
          (d) => JSON.stringify(d.components.queue),
          (e: unknown) => `status failed: ${String(e)}`,
        );
        const openIds = new Set(open.map((j) => j.id));
        const logTail = s
          .stderr()
          .split('\n')
          .filter((l) => [...openIds].some((id) => l.includes(id)) || /"level":"(warn|error)"/.test(l))
          .slice(-40)
          .join('\n');
        throw new Error(
          `${String(err)}; not terminal: ${JSON.stringify(open.slice(0, 5).map((j) => ({ id: j.id, state: j.state, stage: j.stage, task: j.task_id, attempt: j.attempt, error: j.error })))}; queue: ${queue}; log of those jobs and warnings:\n${logTail}`,
        );
      });
      expect(final.length).toBe(accepted.size);
      const byState = final.reduce<Record<string, number>>((m, j) => ((m[j.state] = (m[j.state] ?? 0) + 1), m), {});
      expect(byState.succeeded ?? 0).toBeGreaterThan(0);
      // Failures may only be the spawn-tree jobs' timeouts or interrupted last attempts, never a lost job.
      for (const j of final.filter((x) => x.state === 'failed'))
        expect(['timeout', 'internal']).toContain(j.error?.class);
      await s.stop('SIGTERM');
      running.splice(0);
      const db = new Database(dbFile, { readonly: true });
      expect(db.prepare(`SELECT count(*) AS n FROM jobs WHERE state = 'running'`).get()).toEqual({ n: 0 });
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      db.close();
      const pids = readAgentLog(log)
        .flatMap((e) => [e.pid, e.grandchild])
        .filter((p): p is number => typeof p === 'number');
      await until(() => pids.every((p) => !liveProcess(p)), {
        timeoutMs: 15_000,
        what: 'no agent process left at the end',
      });
      console.log(`crash loop: ${restarts} restarts, ${accepted.size} accepted, outcomes ${JSON.stringify(byState)}`);
    },
  );
});
