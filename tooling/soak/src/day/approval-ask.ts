// The agent's side of the day profile's approvals: a `command` run raises an approval for a made-up tool use with
// its own run token (ALTER0_APPROVAL_TOKEN) and waits for the decision, as `alter0 approval request` would
// (docs/approvals.md "Any agent"). Plain fetch: the agent is a short-lived process and needs no client.
import { setTimeout as sleep } from 'node:timers/promises';

/** What the run asked and what it got: the daemon's decision, or why there was none. */
export interface AskedApproval {
  id: string | null;
  /** allowed | denied | expired (the daemon's); no_token, refused_<status>, unreachable, unanswered (the agent's). */
  state: string;
}

/** The made-up tool use of a plan's key: the harness (as owner) finds the plan again by this command. */
function approvalCommand(key: string): string {
  return `soak-approval ${key}`;
}

/** The key of a made-up tool use's input, or null when the input is not one of the soak's. */
export function keyOfApprovalInput(input: unknown): string | null {
  if (typeof input !== 'object' || input === null) return null;
  const cmd = (input as { command?: unknown }).command;
  if (typeof cmd !== 'string') return null;
  const m = /^soak-approval ([a-z0-9-]+)$/.exec(cmd);
  return m?.[1] ?? null;
}

async function getJson(url: string, token: string, timeoutMs: number, body?: unknown): Promise<[number, unknown]> {
  const res = await fetch(url, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch {
    parsed = null;
  }
  return [res.status, parsed];
}

function field(x: unknown, name: string): string | null {
  if (typeof x !== 'object' || x === null) return null;
  const v = (x as Record<string, unknown>)[name];
  return typeof v === 'string' ? v : null;
}

/**
 * Raises the approval and waits (long polls of at most 30 s) until it is decided or `maxWaitMs` has passed.
 * A connection error means the daemon died: the caller ends the run (the restart denies the approval).
 */
export async function askApproval(key: string, env: NodeJS.ProcessEnv, maxWaitMs: number): Promise<AskedApproval> {
  const url = env.ALTER0_URL ?? '';
  const token = env.ALTER0_APPROVAL_TOKEN ?? '';
  const job = env.ALTER0_JOB_ID ?? '';
  if (url === '' || token === '' || job === '') return { id: null, state: 'no_token' };
  const end = Date.now() + maxWaitMs;
  let id: string | null = null;
  try {
    const body = { job_id: job, tool: 'Bash', input: { command: approvalCommand(key) } };
    let [status, raised] = await getJson(`${url}/api/approvals`, token, 15_000, body);
    // A full disk or a held database refuses the question for a while (503/507: nothing was kept); the run asks
    // again, as it would wait for any answer, rather than going on unasked (a run that went on made its job
    // succeed with no approval at all, which the checks rightly flagged).
    while ((status === 503 || status === 507) && Date.now() + 1000 < end) {
      await sleep(1000);
      [status, raised] = await getJson(`${url}/api/approvals`, token, 15_000, body);
    }
    id = field(raised, 'approval_id');
    if (status !== 201 || id === null) return { id: null, state: `refused_${status}` };
    let state = field(raised, 'state') ?? 'pending';
    while (state === 'pending' && Date.now() < end) {
      const waitS = Math.max(1, Math.min(30, Math.floor((end - Date.now()) / 1000)));
      const got = await getJson(`${url}/api/approvals/${id}?wait_s=${waitS}`, token, waitS * 1000 + 10_000).catch(
        (err: unknown) => {
          // A daemon stopped (SIGSTOP) answers late, not never: wait on; a refused connection is a dead daemon.
          if (err instanceof Error && err.name === 'TimeoutError') return null;
          throw err;
        },
      );
      if (got === null) continue;
      const [s, a] = got;
      if (s !== 200) return { id, state: `refused_${s}` };
      state = field(a, 'state') ?? 'pending';
    }
    return { id, state: state === 'pending' ? 'unanswered' : state };
  } catch {
    return { id, state: 'unreachable' };
  }
}
