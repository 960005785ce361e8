import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, tempDir, until } from './harness.js';
import {
  DaemonProcess,
  approvalsFeature,
  decodePlan,
  denyReason,
  encodePlan,
  judgeAgentViews,
  judgeApprovals,
  overdue,
  parseOptions,
  prepareRun,
} from '@alter0/soak';
import type { ApprovalJob, SeenApproval, SoakRun } from '@alter0/soak';

// The day profile's approvals (tooling/soak/src/day/approvals.ts) against the real `alter0 serve` and the soak
// agent: each plan ends as it should, a kill -9 while an approval waits denies it by restart and the next attempt
// asks again; and every check is shown able to fail (on the live daemon for the overdue check, on broken
// observations for the rest).

const AGENT = fileURLToPath(new URL('../../../tooling/soak/dist/agent.js', import.meta.url));
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A run of the harness with one feature, its daemon started with the feature's settings. */
async function started(
  feature: ReturnType<typeof approvalsFeature>,
  extraSets: string[] = [],
): Promise<{ run: SoakRun; ac: AbortController; logs: string[] }> {
  const out = tempDir('alter0-soak-appr-');
  dirs.push(out);
  const opts = parseOptions(['--duration', '60s', '--out', path.join(out, 'r.md'), '--kill-every', '0'], BIN);
  const logs: string[] = [];
  const ac = new AbortController();
  const run = prepareRun(opts, { agent: AGENT }, ac.signal, (l) => logs.push(l));
  dirs.push(run.work);
  const p = await feature.prepare(run);
  run.spec.sets.push(...p.sets, ...extraSets);
  Object.assign(run.spec.env, p.env);
  run.daemon = await DaemonProcess.start(run.spec, run.gen, ac.signal);
  run.up = true;
  return { run, ac, logs };
}

/** kill -9 and a restart on the same data, as the core's storm does it. */
async function killAndRestart(run: SoakRun, ac: AbortController): Promise<void> {
  const d = run.daemon;
  if (d === null) throw new Error('no daemon');
  run.up = false;
  d.kill9();
  await d.exited;
  run.gen++;
  run.daemon = await DaemonProcess.start(run.spec, run.gen, ac.signal);
  run.up = true;
}

async function pendingCount(run: SoakRun): Promise<number> {
  const a = await run.api.call((c, o) => c.listApprovals({ state: 'pending' }, o));
  return a.kind === 'ok' ? a.value.length : 0;
}

describe('soak day: approvals against the real daemon', () => {
  it('allow, late, deny and none end as planned; a kill -9 while one waits denies it by restart and it is asked again', async () => {
    const feature = approvalsFeature({
      ...{ timeoutS: 4, marginMs: 5000, everyMs: 300, lateMs: 1500, tailMs: 0, maxJobs: 4 },
      sequence: ['none', 'allow', 'late', 'deny'],
    });
    const { run, ac, logs } = await started(feature);
    try {
      // Four jobs, one per plan, sent within ~2 s.
      await feature.load?.(run, Date.now() + 8000);
      const poller = setInterval(() => void feature.poll?.(run), 500);
      try {
        await until(async () => (await pendingCount(run)) > 0 || undefined, {
          timeoutMs: 20_000,
          what: 'an approval to wait',
          intervalMs: 250,
        });
        await killAndRestart(run, ac);
        await feature.afterRestart?.(run);
      } finally {
        clearInterval(poller);
      }
      await feature.final?.(run);
      const c = run.result.features.approvals ?? {};
      const report = JSON.stringify({ c, violations: run.result.violations, logs }, null, 1);
      expect(run.result.violations, report).toEqual([]);
      expect(c.jobs_accepted, report).toBe(4);
      expect(c.jobs_succeeded, report).toBe(4);
      expect(c.denied_by_restart, report).toBeGreaterThanOrEqual(1);
      expect(c.reasked_jobs, report).toBeGreaterThanOrEqual(1);
      expect(c.allowed, report).toBeGreaterThanOrEqual(2);
      expect(c.denied_by_owner, report).toBe(1);
      expect(c.expired, report).toBe(1);
      expect(c.unanswered_in_time, report).toBe(0);
      expect(run.result.checks.approval_overdue).toBeGreaterThan(0);
      expect(run.result.checks.unexpected_outcome).toBeGreaterThanOrEqual(4);
    } finally {
      await run.daemon?.stop(10_000, true);
      await feature.close();
    }
  }, 60_000);

  it('reports approval_overdue when the daemon lets an approval wait past the timeout the check holds it to', async () => {
    // The daemon expires after 10 min; the check holds it to 1 s + 1 s: the unanswered approval is overdue.
    const feature = approvalsFeature({
      ...{ timeoutS: 4, checkTimeoutS: 1, marginMs: 1000, everyMs: 100, tailMs: 0 },
      sequence: ['none'],
    });
    const { run } = await started(feature, ['approvals.timeout=10m']);
    try {
      await feature.load?.(run, Date.now() + 150);
      await until(
        async () => {
          await feature.poll?.(run);
          return run.result.violations.length > 0 || undefined;
        },
        { timeoutMs: 20_000, intervalMs: 250, what: 'the overdue check to fire' },
      );
      expect(run.result.violations.map((v) => v.kind)).toEqual(['approval_overdue']);
      expect(run.result.violations[0]?.detail).toMatch(/has been pending for \d+s, more than approvals.timeout/);
    } finally {
      await run.daemon?.stop(10_000, true);
      await feature.close();
    }
  }, 45_000);
});

describe('soak day: the approval checks fail on broken observations', () => {
  const job = (plan: ApprovalJob['plan'], over: Partial<ApprovalJob> = {}): ApprovalJob => ({
    ...{ id: `j_${plan}`, key: `ap-${plan}`, plan, state: 'succeeded', attempt: 1, sentAt: 1000 },
    answered: new Map(),
    ...over,
  });
  const appr = (jobId: string, over: Partial<SeenApproval> = {}): SeenApproval => ({
    ...{ id: `a_${jobId}`, job_id: jobId, attempt: 1, state: 'allowed', decided_by: 'api', reason: 'allowed' },
    created_at: 10_000,
    ...over,
  });
  const good = {
    jobs: [
      job('allow', { answered: new Map([['a_j_allow', 'allowed' as const]]) }),
      job('deny', { answered: new Map([['a_j_deny', 'denied' as const]]) }),
      job('none'),
      job('late', { attempt: 2, answered: new Map([['a_j_late', 'allowed' as const]]) }),
    ],
    approvals: [
      appr('j_allow'),
      appr('j_deny', { state: 'denied', reason: denyReason('ap-deny') }),
      appr('j_none', { state: 'expired', decided_by: 'timeout', reason: 'nobody answered' }),
      appr('j_late', { id: 'a_j_late_1', state: 'denied', decided_by: 'restart', reason: 'alter0 restarted' }),
      appr('j_late', { attempt: 2 }),
    ],
  };
  const facts = (restarts: number[] = [2000], writeOutages: { from: number; to: number | null }[] = []) => ({
    restarts,
    timeoutMs: 20_000,
    writeOutages,
  });
  const details = (jobs: ApprovalJob[], approvals: SeenApproval[], restarts = [2000]): string[] =>
    judgeApprovals(jobs, approvals, facts(restarts)).findings.map((f) => `${f.kind}: ${f.detail}`);
  const swap = (id: string, over: Partial<SeenApproval>): SeenApproval[] =>
    good.approvals.map((a) => (a.id === id ? { ...a, ...over } : a));

  it('passes the good observation', () => {
    expect(details(good.jobs, good.approvals)).toEqual([]);
  });

  it('fails each expectation once broken', () => {
    // allow → allowed
    expect(details(good.jobs, swap('a_j_allow', { state: 'denied', decided_by: 'policy' }))).toEqual([
      expect.stringMatching(/^unexpected_outcome: job j_allow .* ended denied by policy .* expected allowed by api/),
    ]);
    // deny → denied with the owner's reason
    expect(details(good.jobs, swap('a_j_deny', { reason: 'denied by the owner' }))).toEqual([
      expect.stringMatching(/^unexpected_outcome: job j_deny .*expected denied by api \(soak: the plan of ap-deny/),
    ]);
    // none → expired by timeout
    expect(details(good.jobs, swap('a_j_none', { state: 'denied', decided_by: 'run_ended' }))).toEqual([
      expect.stringMatching(/^unexpected_outcome: job j_none .*expected expired by timeout/),
    ]);
    // the owner's answer was accepted, yet the approval expired
    expect(details(good.jobs, swap('a_j_allow', { state: 'expired', decided_by: 'timeout' }))).toEqual([
      expect.stringMatching(/the owner's allowed having been accepted/),
    ]);
    // killed while waiting: the next attempt must ask again
    expect(
      details(
        good.jobs,
        good.approvals.filter((a) => a.id !== 'a_j_late'),
      ),
    ).toEqual([
      expect.stringMatching(/^unexpected_outcome: job j_late .* succeeded at attempt 2 but that attempt raised 0/),
    ]);
    // an attempt asks once
    expect(details(good.jobs, [...good.approvals, appr('j_allow', { id: 'a_again' })])).toEqual([
      expect.stringMatching(/raised 2 approvals, not 1/),
    ]);
    // denied by restart with no restart
    expect(details(good.jobs, good.approvals, [])).toEqual([
      expect.stringMatching(
        /^unexpected_outcome: approval a_j_late_1 .* denied by restart, but alter0 did not restart/,
      ),
    ]);
    // nothing of an ended job may still wait
    expect(details(good.jobs, swap('a_j_none', { state: 'pending', decided_by: null }))).toEqual([
      expect.stringMatching(/^approval_overdue: approval a_j_none of job j_none is still pending after its job ended/),
      expect.stringMatching(/^unexpected_outcome: job j_none/),
    ]);
  });

  it('an unanswered approval of an allow plan that expired (the owner could not reach the daemon) is counted, not a violation', () => {
    const r = judgeApprovals([job('allow')], [appr('j_allow', { state: 'expired', decided_by: 'timeout' })], facts([]));
    expect(r).toEqual({ findings: [], unanswered: 1 });
  });

  it('an unanswered approval whose deadline passed while the disk was full may end with its run (found by the third day)', () => {
    // Asked at 10 s, due at 30 s: the expiry cannot be written until the disk has room; the agent gives up first.
    const ended = [appr('j_none', { state: 'denied', decided_by: 'run_ended', reason: 'the run ended' })];
    expect(judgeApprovals([job('none')], ended, facts([], [{ from: 5_000, to: 65_000 }]))).toEqual({
      findings: [],
      unanswered: 1,
    });
    // The outage ended before its deadline: the expiry should have landed.
    expect(
      judgeApprovals([job('none')], ended, facts([], [{ from: 5_000, to: 29_000 }])).findings.map((f) => f.kind),
    ).toEqual(['unexpected_outcome']);
  });

  it('fails the overdue check past the limit, and the agent-view check when the agent was told otherwise', () => {
    const pending = [appr('j_x', { state: 'pending', decided_by: null })];
    expect(overdue(pending, new Map([['a_j_x', 30_000]]), 30_000)).toEqual([]);
    expect(overdue(pending, new Map([['a_j_x', 30_001]]), 30_000).map((f) => f.kind)).toEqual(['approval_overdue']);
    const byId = new Map(good.approvals.map((a) => [a.id, a]));
    expect(judgeAgentViews([{ job: 'j_allow', id: 'a_j_allow', state: 'allowed' }], byId)).toEqual([]);
    expect(judgeAgentViews([{ job: 'j_allow', id: 'a_j_allow', state: 'denied' }], byId)[0]?.detail).toMatch(
      /was told its approval a_j_allow was denied, but the API says allowed/,
    );
    expect(judgeAgentViews([{ job: 'j_q', id: 'a_gone', state: 'allowed' }], byId)[0]?.detail).toMatch(
      /does not list it/,
    );
  });

  it('carries the approval plan in the marker and still reads markers without one', () => {
    const text = `${encodePlan({ key: 'ap1-7', exec: 'ok', n: 0, route: 'ok', close: 'yes', appr: 'late' })} hi`;
    expect(decodePlan(text)).toEqual({ key: 'ap1-7', exec: 'ok', n: 0, route: 'ok', close: 'yes', appr: 'late' });
    expect(decodePlan('[soak k=m1-7 exec=ok route=ok close=no] x')).toEqual({
      ...{ key: 'm1-7', exec: 'ok', n: 0, route: 'ok', close: 'no' },
    });
    expect(Object.keys(decodePlan('[soak k=m1-7 exec=ok route=ok close=no]') ?? {})).not.toContain('appr');
  });
});

describe('soak day: the agent does not go on unasked', () => {
  /** Runs the soak agent's execute stage against a stand-in API that answers every approval request `status`. */
  async function runAgent(
    status: number,
  ): Promise<{ code: number | null; stdout: string; stderr: string; asked: number }> {
    let asked = 0;
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        asked++;
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(status === 201 ? '{"approval_id":"ap_1","state":"allowed"}' : '{"error":{"code":"storage_full"}}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const plan = encodePlan({ key: 'ask-1', exec: 'ok', n: 0, route: 'ok', close: 'yes', appr: 'allow' });
      const child = spawn(process.execPath, [AGENT], {
        env: {
          PATH: process.env.PATH ?? '',
          ALTER0_STAGE: 'execute',
          ALTER0_URL: `http://127.0.0.1:${port}`,
          ALTER0_JOB_ID: 'j_1',
          ALTER0_APPROVAL_TOKEN: 'tok',
          SOAK_APPROVAL_MAX_MS: '2500',
        },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.stdin.end(`${plan} approval please`);
      const [code] = (await once(child, 'close')) as [number | null];
      return { code, stdout, stderr, asked };
    } finally {
      server.close();
    }
  }

  it('fails its run when alter0 refuses the question for the whole wait (the sixth day: a full disk), and goes on when allowed', async () => {
    const refused = await runAgent(507);
    expect(refused.asked, refused.stderr).toBeGreaterThan(1);
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toContain('did not take the approval request (refused_507)');
    expect(refused.stdout).toBe('');
    const allowed = await runAgent(201);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stdout).toContain('soak reply 1 for ask-1');
  });
});
