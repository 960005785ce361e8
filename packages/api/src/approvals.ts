import * as v from 'valibot';
import { EXECUTOR_KINDS } from '@alter0/core';
import { count, idOf, nullableString, nullableTimestamp, timestamp } from './fields.js';

/** Approvals of an agent's tool use (docs/api.md "Approvals"; docs/approvals.md). */

export const APPROVAL_STATES = ['pending', 'allowed', 'denied', 'expired'] as const;

export const Approval = v.object({
  id: idOf('a'),
  job_id: idOf('j'),
  attempt: count,
  task_id: v.nullable(idOf('t')),
  /** The executor of the run that asked. */
  agent: v.picklist(EXECUTOR_KINDS),
  tool: v.string(),
  /** The tool's input, secrets redacted. */
  input: v.unknown(),
  state: v.picklist(APPROVAL_STATES),
  reason: nullableString,
  /** Who answered: the owner through api, cli, console or telegram; or alter0 by policy, timeout, cancel, restart, run_ended. */
  decided_by: nullableString,
  /** Also allowed for the rest of the task. */
  always: v.boolean(),
  created_at: timestamp,
  expires_at: timestamp,
  decided_at: nullableTimestamp,
  /** How long it waited for its answer, in ms (null while pending). */
  waited_ms: v.nullable(count),
});
export type Approval = v.InferOutput<typeof Approval>;

export const ApprovalList = v.object({ approvals: v.array(Approval) });
export type ApprovalList = v.InferOutput<typeof ApprovalList>;

/** POST /api/approvals, by the run itself (its `ALTER0_APPROVAL_TOKEN` as the bearer). */
export const ApprovalInput = v.strictObject({
  job_id: idOf('j'),
  tool: v.pipe(v.string(), v.trim(), v.minLength(1, 'tool must not be empty'), v.maxLength(200)),
  input: v.optional(v.unknown(), {}),
});
export type ApprovalRequest = v.InferInput<typeof ApprovalInput>;

export const ApprovalRaised = v.object({ approval_id: idOf('a'), state: v.picklist(APPROVAL_STATES) });
export type ApprovalRaised = v.InferOutput<typeof ApprovalRaised>;

export const AllowInput = v.strictObject({ always: v.optional(v.boolean()) });
export const DenyInput = v.strictObject({ reason: v.optional(v.pipe(v.string(), v.maxLength(2000))) });
export type AllowRequest = v.InferInput<typeof AllowInput>;
export type DenyRequest = v.InferInput<typeof DenyInput>;

export const ApprovalsQuery = v.object({
  state: v.optional(v.picklist(['pending', 'all'], 'state must be pending or all'), 'pending'),
  job_id: v.optional(v.string()),
  task_id: v.optional(v.string()),
});
export type ApprovalsFilter = v.InferInput<typeof ApprovalsQuery>;

/** GET /api/approvals/{id}?wait_s=N: waits up to N seconds (at most 60) for a pending approval's answer. */
export const ApprovalWaitQuery = v.object({
  wait_s: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,2}$/, 'wait_s must be a whole number of seconds, at most 60'),
      v.transform(Number),
      v.maxValue(60, 'wait_s must be at most 60'),
    ),
  ),
});
