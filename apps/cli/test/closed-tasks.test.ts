import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import type { Served } from './harness.js';
import { AGENT, readAgentLog, reply, serve, tempDir, until } from './harness.js';

/**
 * Recently closed tasks are the router's candidates (router.closed_lookback, router/v2): through the real
 * `alter0 serve` and the fixture agent, whose routing answer the test sets through AGENT_ROUTE_FILE. A small
 * wrapper in front of the fixture keeps every routing prompt whole, to see what the router was shown.
 */
const WRAPPER = `
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const input = Buffer.concat(chunks);
if (process.env.ALTER0_STAGE === 'route') fs.appendFileSync(process.env.ROUTE_PROMPTS, input.toString('utf8') + '\\n<<END>>\\n');
const r = spawnSync(process.execPath, [${JSON.stringify(AGENT)}], { input, stdio: ['pipe', 'inherit', 'inherit'] });
process.exit(r.status ?? 1);
`;

interface Daemon {
  s: Served;
  data: string;
  log: string;
  /** The router's next answers ('' restores the fixture's default). */
  route(answer: Record<string, unknown> | ''): void;
  /** Every routing prompt so far, in order. */
  prompts(): string[];
}

const daemons: Daemon[] = [];
async function start(env: Record<string, string> = {}): Promise<Daemon> {
  const data = tempDir('alter0-closed-');
  const log = path.join(data, 'agent.log');
  const routeFile = path.join(data, 'route-output');
  const promptsFile = path.join(data, 'route-prompts');
  const wrapper = path.join(data, 'agent-wrapper.mjs');
  fs.writeFileSync(wrapper, WRAPPER);
  const s = await serve({
    data,
    command: [process.execPath, wrapper].map((a) => JSON.stringify(a)).join(' '),
    env: { AGENT_LOG: log, AGENT_ROUTE_FILE: routeFile, ROUTE_PROMPTS: promptsFile, ...env },
  });
  const d: Daemon = {
    s,
    data,
    log,
    route: (answer) => fs.writeFileSync(routeFile, answer === '' ? '' : JSON.stringify(answer)),
    prompts: () =>
      fs.existsSync(promptsFile) ? fs.readFileSync(promptsFile, 'utf8').split('\n<<END>>\n').slice(0, -1) : [],
  };
  daemons.push(d);
  return d;
}
afterAll(async () => {
  for (const d of daemons.splice(0)) {
    await d.s.cleanup();
    fs.rmSync(d.data, { recursive: true, force: true, maxRetries: 5 });
  }
});

/** A task of its own, answered, its automatic close decision (keep_open) recorded, then closed by the owner. */
async function closedTask(d: Daemon, content: string, reason: string): Promise<string> {
  d.route({ decision: 'new', task_id: null, confidence: 0.9, reason: 'a new subject' });
  const r = await reply(d.s, { content });
  const taskId = r.task_id ?? '';
  await until(async () => (await d.s.client.getTask(taskId)).decisions.close.length > 0, {
    what: 'the closer to judge the first job',
  });
  expect(await d.s.client.closeTask(taskId, { reason })).toMatchObject({ id: taskId, state: 'closed' });
  return taskId;
}

describe('recently closed tasks as routing candidates (router/v2, the default)', () => {
  let d: Daemon;
  beforeAll(async () => {
    d = await start();
  });

  it('a message the router sends to a closed task reopens it and runs there, starting no new task', async () => {
    const backup = await closedTask(d, 'the nightly backup to the NAS fails with permission denied', 'backups run');
    const tasksBefore = await d.s.client.listTasks({ state: 'all' });

    d.route({ decision: 'existing', task_id: backup, confidence: 0.88, reason: 'the fixed backup broke again' });
    const r = await reply(d.s, { content: 'the NAS backup failed again last night' });
    expect(r.task_id).toBe(backup);
    expect(r.reply).toMatch(/^echo\(2\): /);
    expect(r.route).toMatchObject({ decision: 'existing', fallback: null });

    // The router was shown the closed task, marked closed with its day and reason.
    const prompt = d.prompts().at(-1) ?? '';
    expect(prompt).toMatch(new RegExp(`task_id: ${backup} \\[closed \\d{4}-\\d{2}-\\d{2}: backups run\\]`));
    expect(prompt).toContain('A closed task is finished work.');

    const t = await d.s.client.getTask(backup);
    expect(t.state).toBe('open');
    expect(t.closed_at).toBeNull();
    expect(t.decisions.close.map((x) => `${x.source}:${x.action}`).slice(0, 3)).toEqual([
      'auto:keep_open',
      'manual:close',
      'manual:reopen',
    ]);
    const reopen = t.decisions.close[2];
    expect(reopen).toMatchObject({ job_id: r.job_id, confidence: 0.88, model_called: false });
    expect(reopen?.reason).toMatch(/^reopened: message m_[0-9a-z]{26} continues it \(routing\)$/);
    expect(t.decisions.route.at(-1)).toMatchObject({
      job_id: r.job_id,
      decision: 'existing',
      fallback: null,
      reason: 'the fixed backup broke again (the task was closed; reopened it)',
    });
    expect(t.decisions.route.at(-1)?.candidates.map((c) => c.taskId)).toContain(backup);

    // The job ran in that task (its agent session resumed), and no task was created.
    const exec = readAgentLog(d.log).filter((e) => e.stage === 'execute' && e.job === r.job_id);
    expect(exec.map((e) => e.task)).toEqual([backup]);
    expect((await d.s.client.listTasks({ state: 'all' })).map((x) => x.id).sort()).toEqual(
      tasksBefore.map((x) => x.id).sort(),
    );
  });

  it('a message routed new while a similar closed task exists starts a new task and leaves the closed one closed', async () => {
    const invoice = await closedTask(d, 'invoice PDF totals are off by one cent', 'VAT rounding fixed');
    d.route({ decision: 'new', task_id: null, confidence: 0.86, reason: 'a different bug in the PDFs' });
    const r = await reply(d.s, { content: 'the credit note PDFs show the wrong date format' });
    expect(r.task_id).not.toBeNull();
    expect(r.task_id).not.toBe(invoice);
    expect(r.route).toMatchObject({ decision: 'new', fallback: null });
    const route = (await d.s.client.getTask(r.task_id ?? '')).decisions.route.at(-1);
    expect(route?.candidates.map((c) => c.taskId)).toContain(invoice);
    expect(d.prompts().at(-1)).toMatch(new RegExp(`task_id: ${invoice} \\[closed [0-9-]{10}: VAT rounding fixed\\]`));
    const t = await d.s.client.getTask(invoice);
    expect(t.state).toBe('closed');
    expect(t.decisions.close.map((x) => x.action)).not.toContain('reopen');
  });
});

describe('router.closed_lookback = "0s"', () => {
  it('offers open tasks only: with every task closed, the router is not asked', async () => {
    const d = await start({ ALTER0_ROUTER__CLOSED_LOOKBACK: '0s' });
    const first = await closedTask(d, 'plan the garden beds', 'beds planned');
    const routeCalls = d.prompts().length;
    d.route({ decision: 'existing', task_id: first, confidence: 0.9, reason: 'would reopen it' });
    const r = await reply(d.s, { content: 'the garden beds again' });
    expect(r.task_id).not.toBe(first);
    expect(r.route).toMatchObject({ decision: 'new', fallback: 'no_candidates' });
    expect(d.prompts()).toHaveLength(routeCalls);
    expect((await d.s.client.getTask(first)).state).toBe('closed');
  });
});
