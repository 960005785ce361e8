import type { Store } from '@alter0/store';
import type { Metrics } from '@alter0/obs';
import type { ApiDeps } from './api.js';
import type { Bus } from './bus.js';

/** The owner's close and reopen (API and CLI): the same close rule as the closer's, recorded as a manual decision. */
export function manualCloseRule(d: {
  store: Store;
  bus: Bus;
  metrics: Metrics;
  now: () => number;
}): Pick<ApiDeps, 'closeTask' | 'reopenTask'> {
  const apply = (taskId: string, action: 'close' | 'reopen', reason: string): void => {
    d.store.tasks.applyCloseDecision({
      taskId,
      jobId: null,
      source: 'manual',
      action,
      confidence: 1,
      reason,
      modelCalled: false,
      latencyMs: 0,
      now: d.now(),
    });
    d.metrics.closeDecision('manual', action);
    d.bus.task(taskId);
  };
  return {
    closeTask: (id, reason) => apply(id, 'close', reason),
    reopenTask: (id) => apply(id, 'reopen', 'reopened by the owner'),
  };
}
