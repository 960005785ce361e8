import type { Rng } from './rng.js';
import type { ExecFault, FaultKind, MessagePlan } from './plan.js';
import { encodePlan } from './plan.js';

/** What a message's fault plan predicts for its chain (when no kill or cancel disturbs it). */
export interface Expectation {
  /** The original job's end state and error class. */
  first: { state: 'succeeded' | 'failed'; errorClass: string | null };
  /** A harness retry of a failed original: its faults are used up, so it succeeds. */
  retry: 'succeeded';
}

export interface PlanContext {
  faults: Record<FaultKind, number>;
  maxAttempts: number;
  jobTimeoutS: number;
  /** The sync wait: a slow answer is slower than this, so the client gets a 202. */
  syncWaitMs: number;
}

const EXEC_ORDER: readonly Exclude<ExecFault, 'ok' | 'long'>[] = [
  'slow',
  'hang',
  'rate_limited',
  'unavailable',
  'auth',
];

/** Draws one message's plan. `longMs` > 0 makes the answer slow by about that much (the async long jobs). */
export function drawPlan(rng: Rng, key: string, ctx: PlanContext, longMs: number): MessagePlan {
  let exec: ExecFault = 'ok';
  let x = rng.next();
  for (const f of EXEC_ORDER) {
    if (x < ctx.faults[f]) {
      exec = f;
      break;
    }
    x -= ctx.faults[f];
  }
  const timeoutMs = ctx.jobTimeoutS * 1000;
  let n = 0;
  switch (exec) {
    case 'slow':
      // Slower than the sync wait, well inside the timeout (agent start-up under load must still fit).
      n = Math.round(Math.min(0.4 * timeoutMs, ctx.syncWaitMs * (1.2 + rng.next() * 0.6)));
      break;
    case 'hang':
      // Mostly one hang that a retry-with-backoff gets past; sometimes every attempt, so the job fails as timeout.
      n = rng.chance(0.8) ? 1 : ctx.maxAttempts;
      break;
    case 'rate_limited':
    case 'unavailable':
      n = rng.int(1, ctx.maxAttempts);
      break;
    case 'auth':
      n = 1;
      break;
    case 'ok':
      if (longMs > 0) {
        exec = 'long';
        n = Math.round(Math.min(0.6 * timeoutMs, longMs * (0.5 + rng.next())));
      }
      break;
  }
  const route = rng.chance(ctx.faults.malformed_route) ? 'malformed' : 'ok';
  const close = rng.chance(ctx.faults.malformed_close) ? 'malformed' : rng.chance(0.6) ? 'yes' : 'no';
  return { key, exec, n, route, close };
}

export function expectationOf(plan: MessagePlan, maxAttempts: number): Expectation {
  const retryable = plan.exec === 'hang' || plan.exec === 'rate_limited' || plan.exec === 'unavailable';
  if (retryable && plan.n >= maxAttempts) {
    return { first: { state: 'failed', errorClass: plan.exec === 'hang' ? 'timeout' : plan.exec }, retry: 'succeeded' };
  }
  if (plan.exec === 'auth') return { first: { state: 'failed', errorClass: 'auth' }, retry: 'succeeded' };
  return { first: { state: 'succeeded', errorClass: null }, retry: 'succeeded' };
}

const WORDS = [
  'deploy',
  'report',
  'refactor',
  'invoice',
  'garden',
  'backup',
  'parser',
  'budget',
  'sketch',
  'review',
  'ticket',
  'kernel',
];

/** The message text: the plan marker and a few words (so tasks get distinct titles). */
export function messageText(rng: Rng, plan: MessagePlan): string {
  const words = Array.from({ length: 6 }, () => rng.pick(WORDS) ?? 'soak').join(' ');
  return `${encodePlan(plan)} ${words}`;
}
