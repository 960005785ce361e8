import type { Approval } from '@alter0/api';
import { Alter0Error } from '@alter0/core';
import { parseDuration } from '@alter0/config';
import { createCliClient } from '../client.js';
import { table } from '../format.js';
import { output } from '../output.js';
import type { ApprovalsArgs, ApproveArgs, DenyArgs, RequestArgs } from '../descriptors/approvals.js';
import { clientFor } from './client.js';

// Tool inputs and reasons come from agents: printed through the one sanitizing seam (output.ts).
const out = (s: string): void => output.text(s);

function inputLine(a: Approval): string {
  const text = JSON.stringify(a.input);
  return text.length > 120 ? `${text.slice(0, 119)}…` : text;
}

function printApproval(a: Approval): void {
  out(`approval ${a.id}  ${a.state}${a.decided_by ? ` (${a.decided_by})` : ''}  ${a.tool}  job ${a.job_id}`);
  out(`input ${JSON.stringify(a.input, null, 2)}`);
  if (a.reason) out(`reason ${a.reason}`);
}

export async function list(a: ApprovalsArgs): Promise<void> {
  const rows = await clientFor(a).listApprovals({ state: a.all ? 'all' : 'pending' });
  if (a.json) return output.json(rows);
  out(
    table(
      rows.map((r) => ({
        id: r.id,
        state: r.state,
        tool: r.tool,
        input: inputLine(r),
        job: r.job_id,
        asked: r.created_at,
        ...(a.all ? { 'decided by': r.decided_by } : { expires: r.expires_at }),
      })),
      ['id', 'state', 'tool', 'input', 'job', 'asked', a.all ? 'decided by' : 'expires'],
    ),
  );
}

export async function approve(a: ApproveArgs): Promise<void> {
  const r = await clientFor(a).allowApproval(a.id, a.always ? { always: true } : {});
  if (a.json) return output.json(r);
  printApproval(r);
}

export async function deny(a: DenyArgs): Promise<void> {
  const r = await clientFor(a).denyApproval(a.id, a.reason ? { reason: a.reason } : {});
  if (a.json) return output.json(r);
  printApproval(r);
}

/** Longest single wait the API allows; the request waits in such steps until decided or out of time. */
const WAIT_STEP_S = 30;

/**
 * `alter0 approval request` inside an agent's run: raises an approval with the run's own token, waits for the
 * answer, prints it; exit 0 allowed, 1 denied or expired (or out of time).
 */
export async function request(a: RequestArgs): Promise<void> {
  const env = process.env;
  const url = env.ALTER0_URL;
  const token = env.ALTER0_APPROVAL_TOKEN;
  const jobId = env.ALTER0_JOB_ID;
  if (!url || !token || !jobId) {
    throw new Alter0Error(
      'no_run',
      'alter0 approval request runs inside an agent run started by alter0 (it needs ALTER0_URL, ALTER0_JOB_ID and ALTER0_APPROVAL_TOKEN)',
    );
  }
  let input: unknown = {};
  if (a.input !== undefined) {
    try {
      input = JSON.parse(a.input) as unknown;
    } catch (err) {
      throw new Alter0Error('invalid_input', `--input is not JSON: ${(err as Error).message}`);
    }
  }
  const c = createCliClient({ addr: url, token });
  const raised = await c.raiseApproval({ job_id: jobId, tool: a.tool, input });
  const end = a.timeout ? Date.now() + parseDuration(a.timeout) : Number.POSITIVE_INFINITY;
  let now = await c.getApproval(raised.approval_id);
  while (now.state === 'pending' && Date.now() < end) {
    const left = Math.ceil((end - Date.now()) / 1000);
    now = await c.getApproval(raised.approval_id, { waitS: Math.max(1, Math.min(WAIT_STEP_S, left)) });
  }
  if (a.json) output.json(now);
  else out(`${now.state}${now.reason ? `: ${now.reason}` : ''}`);
  if (now.state !== 'allowed') process.exitCode = 1;
}
