import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Approval } from '@alter0/api';
import { killGroups, processesUnder, until } from '@alter0/testkit';
import { reply, toolCall } from '../src/behaviour.js';
import type { TempHome } from '../src/env.js';
import { makeTempHome } from '../src/env.js';
import type { AgentSide, Daemon } from './daemon-harness.js';
import { agentSide, callKind, startDaemon } from './daemon-harness.js';
import { bodyText, cliOrSkip } from './helpers.js';

/*
 * Approvals with the REAL claude CLI: the daemon runs claude with `--permission-prompt-tool mcp__alter0__approve`
 * and an MCP config naming `alter0 mcp-approvals`; the fake model asks for a Bash command, which acceptEdits
 * does not allow, so claude asks alter0's MCP tool, which raises an approval and waits for the owner.
 */

const claude = cliOrSkip('claude');
const keepOpen = reply(JSON.stringify({ close: false, confidence: 0.2, reason: 'more to come' }));
// A command acceptEdits does not allow on its own (a plain `echo > file` counts as an edit in the workspace).
const WRITE = `node -e "require('fs').writeFileSync('out.txt', 'approved\\n')"`;

describe.skipIf(claude === null)('claude asks the owner before a tool use', { timeout: 90_000 }, () => {
  let tmp: TempHome;
  let agent: AgentSide;
  let daemon: Daemon | null = null;

  beforeEach(async () => {
    tmp = await makeTempHome('alter0-approve-');
    agent = await agentSide('claude', claude ?? 'claude', tmp);
  });
  afterEach(async () => {
    const left = daemon === null ? [] : processesUnder(daemon.data);
    await daemon?.stop();
    daemon = null;
    killGroups(left.map((p) => p.pgid));
    await agent.fake.close();
    await tmp.remove();
  }, 30_000);

  function start(sets: Record<string, string | number> = {}): Promise<Daemon> {
    return startDaemon({
      tmp,
      agents: [agent],
      executor: 'claude',
      sets: {
        'executor.claude.bin': claude ?? 'claude',
        'executor.kill_grace_ms': 1_000,
        'queue.job_timeout_s': 60,
        'queue.max_attempts': 2,
        'queue.backoff_initial_ms': 200,
        'closer.timeout_s': 20,
        'shutdown.drain_timeout_s': 1,
        'log.file': 'false',
        'router.prespawn': 'false',
        ...sets,
      },
    });
  }

  const pending = (d: Daemon, jobId: string): Promise<Approval> =>
    until(async () => (await d.client.listApprovals()).find((a) => a.job_id === jobId), {
      timeoutMs: 40_000,
      what: `claude's permission prompt for job ${jobId} to reach alter0`,
    });
  const execCalls = () => agent.fake.modelCalls().filter((r) => callKind(r) === 'execute');

  it('allowed: the tool runs, then the final reply arrives; the approval records the tool and its input', async () => {
    agent.fake.script([toolCall('Bash', { command: WRITE, description: 'write a file' }), reply('wrote it'), keepOpen]);
    daemon = await start();
    const { job_id } = await daemon.client.submitJob({ content: 'write the file' });
    const a = await pending(daemon, job_id);
    expect(a).toMatchObject({ tool: 'Bash', agent: 'claude', state: 'pending', input: { command: WRITE } });
    await daemon.client.allowApproval(a.id);
    const job = await daemon.finished(job_id, 60_000);
    expect(job).toMatchObject({ state: 'succeeded', reply: 'wrote it', permission_denials: [] });
    const task = await daemon.task(job.task_id ?? '');
    expect(readFileSync(join(task.workspace, 'out.txt'), 'utf8')).toBe('approved\n');
    // The token reached the MCP server through the config file, never on a command line.
    expect(daemon.stderr()).not.toMatch(/ALTER0_APPROVAL_TOKEN=/);
  });

  it('denied: the tool does not run, the model is told why, and the job shows the denial', async () => {
    agent.fake.script([
      toolCall('Bash', { command: WRITE, description: 'write a file' }),
      reply('could not'),
      keepOpen,
    ]);
    daemon = await start();
    const { job_id } = await daemon.client.submitJob({ content: 'write the file' });
    const a = await pending(daemon, job_id);
    await daemon.client.denyApproval(a.id, { reason: 'not in this repo' });
    const job = await daemon.finished(job_id, 60_000);
    expect(job.state).toBe('succeeded');
    expect(job.permission_denials).toEqual([{ tool: 'Bash', input: expect.objectContaining({ command: WRITE }) }]);
    const task = await daemon.task(job.task_id ?? '');
    expect(existsSync(join(task.workspace, 'out.txt'))).toBe(false);
    expect(bodyText(execCalls()[1]?.body)).toContain('not in this repo');
  });

  it('unanswered: denied when approvals.timeout passes', async () => {
    agent.fake.script([toolCall('Bash', { command: WRITE, description: 'write a file' }), reply('gave up'), keepOpen]);
    daemon = await start({ 'approvals.timeout': '2s' });
    const { job_id } = await daemon.client.submitJob({ content: 'write the file' });
    const a = await pending(daemon, job_id);
    const job = await daemon.finished(job_id, 60_000);
    expect(job.permission_denials.map((d) => d.tool)).toEqual(['Bash']);
    expect(await daemon.client.getApproval(a.id)).toMatchObject({ state: 'expired', decided_by: 'timeout' });
    expect(bodyText(execCalls()[1]?.body)).toContain('nobody answered within approvals.timeout');
  });

  it('a kill -9 while it waits: the approval is denied at the restart, the job runs again and asks again', async () => {
    agent.fake.script([
      toolCall('Bash', { command: WRITE, description: 'write a file' }),
      toolCall('Bash', { command: WRITE, description: 'write a file' }),
      reply('wrote it after the restart'),
      keepOpen,
    ]);
    daemon = await start();
    const { job_id } = await daemon.client.submitJob({ content: 'write the file' });
    const first = await pending(daemon, job_id);
    const data = daemon.data;
    // The whole service dies at once, its agents with it (what systemd's KillMode=control-group does to a crashed
    // unit). An agent left alive would be told "alter0 could not be asked" and go on, until the next start's reaper.
    const agents = processesUnder(data);
    await daemon.kill9();
    killGroups(agents.map((p) => p.pgid));
    daemon = await start();
    expect(await daemon.client.getApproval(first.id)).toMatchObject({ state: 'denied', decided_by: 'restart' });
    const second = await until(
      async () => (await daemon?.client.listApprovals())?.find((a) => a.job_id === job_id && a.id !== first.id),
      { timeoutMs: 40_000, what: 'the second attempt to ask again', detail: () => daemon?.stderr().slice(-3000) ?? '' },
    );
    expect(second.attempt).toBe(2);
    await daemon.client.allowApproval(second.id);
    const job = await daemon.finished(job_id, 60_000);
    expect(job).toMatchObject({ state: 'succeeded', reply: 'wrote it after the restart', attempt: 2 });
    expect(processesUnder(data).filter((p) => p.cmdline.includes('mcp-approvals'))).toEqual([]);
  });
});
