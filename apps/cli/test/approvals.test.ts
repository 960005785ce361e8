import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import type { Approval, Job } from '@alter0/api';
import type { Served } from './harness.js';
import { BIN, cli, readAgentLog, serve, tempDir, until } from './harness.js';

/*
 * Approvals of tool use through the real `alter0 serve`, on the `command` executor's path: the fixture agent runs
 * `alter0 approval request` with its run's own token (ALTER0_URL, ALTER0_JOB_ID, ALTER0_APPROVAL_TOKEN) and
 * answers with what it was told.
 */

const waitUntil = <T>(what: string, fn: () => T | PromiseLike<T>, o: { timeoutMs?: number } = {}) =>
  until(fn, { what, ...o });

describe('approvals through the real daemon (command executor)', () => {
  let s: Served;
  let data: string;
  let agentLog: string;

  beforeAll(async () => {
    const dir = tempDir('alter0-approvals-');
    data = path.join(dir, 'data');
    agentLog = path.join(dir, 'agent.log');
    s = await serve({
      data,
      env: {
        AGENT_LOG: agentLog,
        AGENT_ALTER0_BIN: BIN,
        ALTER0_CLOSER__ENABLED: 'false',
        ALTER0_APPROVALS__ALLOW: JSON.stringify(['Bash(git status:*)']),
        // Long enough for a CLI answer on a busy machine; the expiry has a daemon of its own below.
        ALTER0_APPROVALS__TIMEOUT: '2m',
      },
    });
  }, 60_000);
  afterAll(async () => {
    await s?.cleanup();
  });

  const pendingFor = (jobId: string): Promise<Approval> =>
    waitUntil(`a pending approval of ${jobId}`, async () =>
      (await s.client.listApprovals({ state: 'pending' })).find((a) => a.job_id === jobId),
    );
  const ended = (jobId: string): Promise<Job> =>
    waitUntil(`job ${jobId} answered`, async () => {
      const j = await s.client.getJob(jobId);
      return j.reply !== null || ['failed', 'canceled'].includes(j.state) ? j : null;
    });

  it('waits for the owner: the agent is allowed once the owner approves, and the decision is recorded', async () => {
    const { job_id } = await s.client.submitJob({ content: 'ask-approval Bash rm -rf build' });
    const a = await pendingFor(job_id);
    expect(a).toMatchObject({ tool: 'Bash', input: { command: 'rm -rf build' }, agent: 'command', state: 'pending' });
    expect((await s.client.getJob(job_id)).state).toBe('running');
    await new Promise((r) => setTimeout(r, 300));
    const decided = await s.client.allowApproval(a.id);
    expect(decided).toMatchObject({ state: 'allowed', decided_by: 'api', always: false });
    expect(decided.waited_ms).toBeGreaterThanOrEqual(300);
    const job = await ended(job_id);
    expect(job.reply).toContain('approval(0): allowed');
    // Decided once: a second answer is refused, naming how it was decided.
    await expect(s.client.denyApproval(a.id)).rejects.toThrow(/already allowed \(api\)/);
  });

  it('tells the agent the reason when the owner denies, through the CLI', async () => {
    const { job_id } = await s.client.submitJob({ content: 'ask-approval Bash git push --force' });
    const a = await pendingFor(job_id);
    const listed = await cli(['approvals', '--addr', s.url]);
    expect(listed.stdout).toContain(a.id);
    expect(listed.stdout).toContain('git push --force');
    const denied = await cli(['deny', a.id, '--reason', 'not on main', '--addr', s.url]);
    expect(denied.code).toBe(0);
    expect(denied.stdout).toMatch(/denied \(cli\)/);
    expect((await ended(job_id)).reply).toContain('approval(1): denied: not on main');
  });

  it('allows by the rules without asking, and "always" allows the same use for the rest of the task', async () => {
    const ruled = await s.client.submitJob({ content: 'ask-approval Bash git status --short' });
    expect((await ended(ruled.job_id)).reply).toContain('approval(0): allowed');
    const [byRule] = await s.client.listApprovals({ state: 'all', job_id: ruled.job_id });
    expect(byRule).toMatchObject({
      state: 'allowed',
      decided_by: 'policy',
      reason: 'approvals.allow has Bash(git status:*)',
    });

    const first = await s.client.submitJob({ content: 'ask-approval Bash npm test' });
    const a = await pendingFor(first.job_id);
    const approved = await cli(['approve', a.id, '--always', '--addr', s.url]);
    expect(approved.stdout).toMatch(/allowed \(cli\)/);
    const firstJob = await ended(first.job_id);
    // The same tool use again in that task: allowed by the owner's rule, nobody asked.
    const again = await s.client.submitJob({ content: 'ask-approval Bash npm test', task_id: firstJob.task_id });
    expect((await ended(again.job_id)).reply).toContain('approval(0): allowed');
    const [auto] = await s.client.listApprovals({ state: 'all', job_id: again.job_id });
    expect(auto).toMatchObject({ decided_by: 'policy', reason: 'always allowed for this task: Bash(npm test)' });
    // Another command in that task still asks.
    const other = await s.client.submitJob({ content: 'ask-approval Bash npm publish', task_id: firstJob.task_id });
    await s.client.denyApproval((await pendingFor(other.job_id)).id);
    await ended(other.job_id);
  });

  it('denies when nobody answers in time, and when the job is canceled', async () => {
    const quick = await serve({
      data: path.join(tempDir('alter0-approvals-expire-'), 'data'),
      env: { AGENT_ALTER0_BIN: BIN, ALTER0_CLOSER__ENABLED: 'false', ALTER0_APPROVALS__TIMEOUT: '2s' },
    });
    try {
      const late = await quick.client.submitJob({ content: 'ask-approval Bash make deploy' });
      const job = await until(
        async () => {
          const j = await quick.client.getJob(late.job_id);
          return j.reply !== null && j;
        },
        { what: 'the expired job answered', timeoutMs: 60_000 },
      );
      expect(job.reply).toMatch(/approval\(1\): expired: nobody answered within approvals.timeout/);
      const [expired] = await quick.client.listApprovals({ state: 'all', job_id: late.job_id });
      expect(expired).toMatchObject({ state: 'expired', decided_by: 'timeout' });
    } finally {
      await quick.cleanup();
    }

    const canceled = await s.client.submitJob({ content: 'ask-approval Bash make clean' });
    const a = await pendingFor(canceled.job_id);
    await s.client.cancelJob(canceled.job_id);
    await waitUntil('the approval denied by the cancel', async () => {
      const now = await s.client.getApproval(a.id);
      return now.state === 'denied' && now;
    });
    expect(await s.client.getApproval(a.id)).toMatchObject({ decided_by: 'cancel', reason: 'the job was canceled' });
  });

  it('refuses approvals without a valid run token, and a run token opens nothing else', async () => {
    const { job_id } = await s.client.submitJob({ content: 'ask-approval Bash ls sleep' });
    await pendingFor(job_id);
    const post = (headers: Record<string, string>, body: unknown) => s.api('POST', '/api/approvals', body, headers);
    expect((await post({}, { job_id, tool: 'Bash' })).status).toBe(401);
    expect((await post({ authorization: 'Bearer forged-token-forged-token' }, { job_id, tool: 'Bash' })).status).toBe(
      401,
    );
    // A page in a browser cannot raise one either (cross-site requests are refused before any token is read).
    expect((await post({ 'sec-fetch-site': 'cross-site' }, { job_id, tool: 'Bash' })).status).toBe(403);
    const pending = (await s.client.listApprovals()).find((a) => a.job_id === job_id);
    await s.client.allowApproval(pending?.id ?? '');
    await ended(job_id);

    // A run's own token: it raises approvals for its own job only, reads only those, and opens nothing else.
    const shown = await s.client.submitJob({ content: 'show-token sleep 30000' });
    const seen = await waitUntil('the run shows its token', () =>
      readAgentLog(agentLog).find((l) => l.job === shown.job_id && typeof l.token === 'string'),
    );
    const bearer = { authorization: `Bearer ${String(seen.token)}` };
    expect(String(seen.url)).toBe(s.url);
    expect((await s.api('GET', '/api/jobs', undefined, bearer)).status).toBe(403);
    expect((await s.api('POST', `/api/approvals/${pending?.id ?? ''}/allow`, {}, bearer)).status).toBe(403);
    expect((await post(bearer, { job_id, tool: 'Bash' })).status).toBe(403);
    expect((await s.api('GET', `/api/approvals/${pending?.id ?? ''}`, undefined, bearer)).status).toBe(404);
    const own = await post(bearer, { job_id: shown.job_id, tool: 'Read', input: { file_path: '/etc/hosts' } });
    expect(own.status).toBe(201);
    await s.client.cancelJob(shown.job_id);
    await ended(shown.job_id);
    // Its run ended: the token is worth nothing now.
    expect((await post(bearer, { job_id: shown.job_id, tool: 'Read' })).status).toBe(401);
    const [closed] = await s.client.listApprovals({ state: 'all', job_id: shown.job_id });
    expect(closed).toMatchObject({ state: 'denied', decided_by: 'cancel', tool: 'Read' });
  });
});
