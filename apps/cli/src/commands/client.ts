import readline from 'node:readline/promises';
import { randomUUID } from 'node:crypto';
import { splitListen } from '@alter0/config';
import type { Job, JobError, MessageRequest, StatusDocument } from '@alter0/api';
import { createCliClient } from '../client.js';
import type { CliClient } from '../client.js';
import { clientToken } from '../client-token.js';
import { loadLocalConfig } from '../config-args.js';
import { ms, table } from '../format.js';
import { output } from '../output.js';
import { terminalText } from '../terminal-text.js';
import type {
  ChatArgs,
  ClientArgs,
  CloseArgs,
  IdArgs,
  JobArgs,
  JobsArgs,
  SendArgs,
  SubmitArgs,
  TasksArgs,
} from '../descriptors/client.js';

export function clientFor(args: ClientArgs): CliClient {
  const loaded = loadLocalConfig({ config: args.config, data: args.data });
  const { host, port } = splitListen(loaded.config.listen);
  const connectHost = host === '0.0.0.0' ? '127.0.0.1' : host === '[::]' ? '[::1]' : host;
  const addr = args.addr ?? process.env.ALTER0_URL ?? `http://${connectHost}:${port}`;
  return createCliClient({ addr, token: clientToken(process.env, loaded.config) });
}

// Everything printed below goes through the one sanitizing seam (output.ts): replies and reasons are model text.
const out = (s: string): void => output.text(s);
const json = (v: unknown): void => output.json(v);

function printJob(j: Job): void {
  out(
    `job ${j.id}  ${j.state}${j.stage ? ` (${j.stage})` : ''}  lane ${j.lane}  attempt ${j.attempt}/${j.max_attempts}`,
  );
  if (j.task_id) out(`task ${j.task_id}`);
  if (j.route) out(`route ${j.route.decision}${j.route.fallback ? ` [${j.route.fallback}]` : ''}: ${j.route.reason}`);
  const t = j.timings;
  out(
    `timings queue ${ms(t.queue_wait_ms)}  route ${ms(t.route_ms)}  execute ${ms(t.execute_ms)}  close ${ms(t.close_ms)}  total ${ms(t.total_ms)}`,
  );
  if (j.error)
    out(
      `error (${j.error.class}): ${j.error.message}${j.error.stderr_tail ? `\n--- stderr tail ---\n${j.error.stderr_tail}` : ''}`,
    );
  if (j.reply !== null) out(`\n${j.reply}`);
}

async function waitForJob(c: CliClient, id: string, timeoutMs: number): Promise<Job> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const j = await c.getJob(id);
    if (['succeeded', 'failed', 'canceled'].includes(j.state) || Date.now() > end) return j;
    await new Promise((r) => setTimeout(r, 500));
  }
}

export async function send(a: SendArgs): Promise<void> {
  const body = {
    content: a.text.join(' '),
    task_id: a.task,
    channel_id: 'cli',
    ...(a.wait !== undefined ? { wait_ms: Math.round(a.wait * 1000) } : {}),
  };
  const r = await clientFor(a).sendMessage(body);
  if (a.json) return json(r.body);
  if (r.status === 202) {
    out(
      `still working: job ${r.body.job_id} (${r.body.state}). Follow it with \`alter0 job ${r.body.job_id} --wait\`.`,
    );
    return;
  }
  if (r.body.error && r.body.reply == null) {
    out(`failed (${r.body.error.class}): ${r.body.error.message}`);
    process.exitCode = 1;
    return;
  }
  out(r.body.reply ?? '');
  output.note(`[task ${r.body.task_id}, job ${r.body.job_id}]`);
}

export async function submit(a: SubmitArgs): Promise<void> {
  const accepted = await clientFor(a).submitJob({
    content: a.text.join(' '),
    task_id: a.task,
    lane: a.lane,
    channel_id: 'cli',
    ...(a.timeout !== undefined ? { timeout_s: a.timeout } : {}),
    ...(a.attempts !== undefined ? { max_attempts: a.attempts } : {}),
  });
  if (a.json) return json(accepted);
  out(accepted.job_id);
}

export async function jobs(a: JobsArgs): Promise<void> {
  // `--limit 0` (or none) leaves the limit to the service, as an empty filter does.
  const list = await clientFor(a).listJobs({
    state: a.state,
    task_id: a.task || undefined,
    limit: a.limit || undefined,
  });
  if (a.json) return json({ jobs: list });
  out(
    table(
      list.map((j) => ({
        id: j.id,
        state: j.state,
        lane: j.lane,
        try: `${j.attempt}/${j.max_attempts}`,
        task: j.task_id,
        error: j.error ? `${j.error.class}: ${j.error.message}` : null,
        total: ms(j.timings.total_ms),
        message: j.content,
      })),
      ['id', 'state', 'lane', 'try', 'task', 'total', 'error', 'message'],
    ),
  );
}

export async function job(a: JobArgs): Promise<void> {
  const c = clientFor(a);
  const j = a.wait ? await waitForJob(c, a.id, (a.timeout ?? 3600) * 1000) : await c.getJob(a.id);
  if (a.json) return json(j);
  printJob(j);
  if (j.state === 'failed') process.exitCode = 1;
}

/** Posts to one job or task by id and prints one line of the answer (or the answer with --json). */
async function actOn<T>(
  a: IdArgs,
  act: (c: CliClient, id: string) => Promise<T>,
  line: (answer: T, id: string) => string,
): Promise<void> {
  const answer = await act(clientFor(a), a.id);
  if (a.json) return json(answer);
  out(line(answer, a.id));
}

export async function tasks(a: TasksArgs): Promise<void> {
  const list = await clientFor(a).listTasks({ state: a.state ?? 'open', limit: a.limit ?? 50, q: a.q || undefined });
  if (a.json) return json({ tasks: list });
  out(
    table(
      list.map((t) => ({ ...t, updated: t.updated_at })),
      ['id', 'state', 'executor', 'updated', 'title'],
    ),
  );
}

export async function task(a: IdArgs): Promise<void> {
  const t = await clientFor(a).getTask(a.id);
  if (a.json) return json(t);
  out(
    `task ${t.id}  ${t.state}${t.closed_by ? ` (closed by ${t.closed_by}: ${t.close_reason})` : ''}\n${t.title}\nexecutor ${t.executor}  session ${t.session_id ?? '-'}`,
  );
  const u = t.usage;
  out(
    `usage ${u.jobs} job(s), ${u.input_tokens} tokens in, ${u.output_tokens} out, cost ${u.cost_usd === null ? 'n/a' : `$${u.cost_usd.toFixed(4)}`}`,
  );
  for (const m of t.messages) out(`\n[${m.role} ${m.created_at}]\n${m.content}`);
  if (t.decisions.route.length || t.decisions.close.length) out('\ndecisions:');
  for (const d of t.decisions.route)
    out(`  route ${d.decision}${d.fallback ? ` [${d.fallback}]` : ''} conf ${d.confidence ?? '-'}: ${d.reason}`);
  for (const d of t.decisions.close) out(`  ${d.source} ${d.action} conf ${d.confidence ?? '-'}: ${d.reason}`);
}

export async function close(a: CloseArgs): Promise<void> {
  const closed = await clientFor(a).closeTask(a.id, a.reason ? { reason: a.reason } : {});
  if (a.json) return json(closed);
  out(`task ${a.id}: ${closed.state}`);
}

export async function status(a: ClientArgs): Promise<void> {
  const s = await clientFor(a).status();
  if (a.json) return json(s);
  out(`alter0 ${s.version}  ${s.state.toUpperCase()}  up ${s.uptime_s}s`);
  out(
    table(
      Object.entries(s.components).map(([name, c]) => ({
        component: name,
        state: c.state,
        since: c.since,
        'last error': c.last_error ? `${c.last_error.at} ${c.last_error.message}` : null,
      })),
      ['component', 'state', 'since', 'last error'],
    ),
  );
  const g = s.components.gateway.details;
  out(
    table(
      g.channels.map((c) => ({
        channel: c.name,
        state: c.state,
        restarts: String(c.restarts),
        'next retry': c.next_retry_at,
        'last error': c.last_error ? `${c.last_error.at} ${c.last_error.message}` : null,
      })),
      ['channel', 'state', 'restarts', 'next retry', 'last error'],
    ),
  );
  const failing = g.outbox.last_error ? ` (last failure: ${g.outbox.last_error})` : '';
  out(`notices: ${g.outbox.pending} waiting${failing}, ${g.outbox.dead} given up`);
  out(schedulesLine(s.components.scheduler.details.schedules));
  if (s.state !== 'ok') process.exitCode = 1;
}

/** The owner's schedules in one line, and each paused one with why (alter0 schedule list has the rest). */
function schedulesLine(sc: StatusDocument['components']['scheduler']['details']['schedules']): string {
  const next = sc.next_run_at ? `, next ${sc.next_run_at} (${sc.next_id ?? ''})` : '';
  const failing = sc.failing ? `, ${sc.failing} whose last run failed` : '';
  const paused = sc.paused_ids.map((p) => `\n  paused ${p.id}: ${p.reason ?? ''}`).join('');
  return `schedules: ${sc.active} active, ${sc.paused} paused${failing}${next}${paused}`;
}

/** One line of `alter0 chat`: send it, follow the job when it outlasts the wait, print the reply. Returns the reply's task. */
async function chatTurn(c: CliClient, message: MessageRequest): Promise<string | undefined> {
  const r = await c.sendMessage(message);
  let outcome: { task_id: string | null; reply: string | null; error: JobError | null };
  if (r.status === 202) {
    out(`(working on it: job ${r.body.job_id})`);
    outcome = await waitForJob(c, r.body.job_id, 3_600_000);
  } else {
    outcome = r.body;
  }
  if (outcome.reply != null) out(outcome.reply);
  else if (outcome.error) out(`failed (${outcome.error.class}): ${outcome.error.message}`);
  return outcome.task_id ?? undefined;
}

export async function chat(a: ChatArgs): Promise<void> {
  const c = clientFor(a);
  const sessionId = randomUUID();
  let taskId: string | undefined = a.task;
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY });
  const prompt = (): void => {
    // readline prints the prompt itself: the task id (from the service) is cleaned here.
    rl.setPrompt(taskId ? `[${terminalText(taskId.slice(0, 10))}…]> ` : '> ');
    rl.prompt();
  };
  out('alter0 chat: type a message; /new for a new task, /quit to leave.');
  prompt();
  try {
    // The async iterator buffers lines, so piped input typed ahead of the prompt is not lost.
    for await (const raw of rl) {
      const line = raw.trim();
      if (line === '/quit' || line === '/exit') break;
      if (line === '/new') {
        taskId = undefined;
        prompt();
        continue;
      }
      if (!line) {
        prompt();
        continue;
      }
      taskId =
        (await chatTurn(c, { content: line, task_id: taskId, channel_id: 'cli-chat', session_id: sessionId })) ??
        taskId;
      prompt();
    }
  } finally {
    rl.close();
  }
}

export const cancel = (a: IdArgs): Promise<void> =>
  actOn(
    a,
    (c, id) => c.cancelJob(id),
    (j, id) => `job ${id}: ${j.state}${j.cancel_requested && j.state === 'running' ? ' (cancel requested)' : ''}`,
  );
export const retry = (a: IdArgs): Promise<void> =>
  actOn(
    a,
    (c, id) => c.retryJob(id),
    (r) => r.job_id,
  );
export const reopen = (a: IdArgs): Promise<void> =>
  actOn(
    a,
    (c, id) => c.reopenTask(id),
    (t, id) => `task ${id}: ${t.state}`,
  );
