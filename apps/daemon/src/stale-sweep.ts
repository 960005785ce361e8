import type { Store } from '@alter0/store';
import type { Logger, Metrics } from '@alter0/obs';
import type { Bus } from './bus.js';

const BATCH = 500;

/**
 * Closes tasks idle longer than `staleAfterMs` (closer.stale_after) with `closed_by = stale`, through the same
 * close rule as the closer and a manual close (one decision record each). A task with queued or running work
 * is never stale. At most one batch per run, so a huge backlog is spread over runs.
 */
export function sweepStale(
  deps: { store: Store; metrics: Metrics; logger: Logger; bus: Bus; now: () => number },
  staleAfterMs: number,
  signal: AbortSignal,
): number {
  const now = deps.now();
  const days = Math.round(staleAfterMs / 86_400_000);
  let closed = 0;
  for (const t of deps.store.tasks.staleOpen(now - staleAfterMs, BATCH)) {
    if (signal.aborted) break;
    try {
      deps.store.tasks.applyCloseDecision({
        taskId: t.id,
        jobId: null,
        source: 'stale',
        action: 'close',
        confidence: null,
        reason: `idle since ${new Date(t.updatedAt).toISOString()} (longer than closer.stale_after${days > 0 ? `, ${days} days` : ''})`,
        modelCalled: false,
        latencyMs: 0,
        now,
      });
      deps.metrics.closeDecision('stale', 'close');
      deps.bus.task(t.id);
      closed++;
    } catch (err) {
      // Closed or touched meanwhile: nothing to do for this one.
      deps.logger.debug('stale sweep skipped a task', { err, stale_task: t.id });
    }
  }
  if (closed > 0) deps.logger.info('stale tasks closed', { closed });
  return closed;
}
