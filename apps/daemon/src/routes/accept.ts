import type { Context } from 'hono';
import type { JobRow } from '@alter0/store';
import type { Lane } from '@alter0/core';
import type { JobRequest } from '@alter0/api';
import { ChannelHeader } from '@alter0/api';
import { isTerminalJobState } from '@alter0/core';
import type { ApiDeps } from '../api.js';
import { parseInput } from '../inputs.js';

/**
 * Takes in one message (POST /api/message and /api/jobs) through the intake's group commit; resolves once it is
 * committed (the intake has then woken the workers). `notify`: the caller will not wait for the answer.
 */
export async function acceptMessage(
  deps: ApiDeps,
  c: Context,
  body: JobRequest,
  lane: Lane,
  notify: boolean,
): Promise<JobRow> {
  const channelHeader = parseInput(ChannelHeader, c.req.header('x-alter0-channel'), 'x-alter0-channel header');
  const { job } = await deps.intake.accept({
    content: body.content,
    channelId: body.channel_id ?? (channelHeader || 'http'),
    userId: body.user_id ?? 'owner',
    sessionId: body.session_id ?? null,
    taskId: body.task_id ?? null,
    lane,
    maxAttempts: body.max_attempts ?? deps.defaults.maxAttempts,
    timeoutS: body.timeout_s ?? deps.defaults.timeoutS,
    now: deps.now(),
    // Checked in the accept transaction: a refused message leaves nothing behind.
    maxQueued: deps.limits.queueDepth,
    // Nobody waits for a background job or an async request: its end is announced (webhooks).
    notify: notify || lane === 'background',
  });
  return job;
}

/** Resolves true once the job has a reply or is terminal, false after `ms` (the job carries on either way). */
export function waitForReply(
  deps: Pick<ApiDeps, 'store' | 'bus'>,
  jobId: string,
  ms: number,
  signal: AbortSignal,
): Promise<boolean> {
  const ready = (): boolean => {
    const j = deps.store.jobs.get(jobId);
    return j !== undefined && (j.repliedAt !== null || isTerminalJobState(j.state));
  };
  if (ready()) return Promise.resolve(true);
  if (ms <= 0) return Promise.resolve(false);
  return new Promise((resolve) => {
    const finish = (v: boolean): void => {
      clearTimeout(timer);
      unsubscribe();
      signal.removeEventListener('abort', onAbort);
      resolve(v);
    };
    const onAbort = (): void => finish(false);
    const timer = setTimeout(() => finish(false), ms);
    const unsubscribe = deps.bus.subscribe((e) => {
      if (e.type === 'job' && e.id === jobId && ready()) finish(true);
    });
    signal.addEventListener('abort', onAbort);
  });
}
