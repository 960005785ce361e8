import type { Executor, ExecutorKind } from '@alter0/core';
import type { Config, Redact } from '@alter0/config';
import { Router, loadTemplate as loadRouterTemplate } from '@alter0/routing';
import { Closer, loadTemplate as loadCloserTemplate } from '@alter0/closing';
import type { Logger } from '@alter0/obs';
import { Spawner } from '@alter0/executor';
import { ExecutorRegistry } from '../executors.js';
import { RecordedProcessGroups } from '../orphans.js';
import type { Cleanup } from './storage.js';

export interface Agents {
  executors: ExecutorRegistry;
  router: Router;
  closer: Closer | null;
  /** Ends the executor probes still running (at stop). */
  probeAbort: AbortController;
}

export interface AgentOptions {
  groupsDir: string;
  overrides: Partial<Record<ExecutorKind, Executor>> | undefined;
  redact: Redact;
  token: string | null;
  /** Where a start that fails later finds how to stop the probes and the spawner's helper. */
  cleanup: Cleanup;
}

/**
 * The executors (agents get the redactor and never the API token), probed in the background — a missing one
 * only degrades the service — and the router and closer that call them.
 */
export function buildAgents(config: Config, logger: Logger, o: AgentOptions): Agents {
  // Agents are forked by the spawner's helper process: a fork of this big process would block the event loop.
  const spawner = new Spawner({
    onHelperLost: (info) =>
      logger.error('the spawner helper process died; its running agents were killed and their runs fail', info),
  });
  const executors = new ExecutorRegistry(config, new RecordedProcessGroups(o.groupsDir), spawner, o.overrides, {
    redact: o.redact,
    secretValues: o.token === null ? [] : [o.token],
  });
  const probeAbort = new AbortController();
  o.cleanup.unshift(async () => {
    probeAbort.abort();
    await executors.close();
  });
  void executors.probeAll(probeAbort.signal).then(
    (ps) => {
      for (const p of ps) {
        if (p.ok) logger.info('executor found', { executor: p.kind, path: p.path, version: p.version });
        else logger.warn('executor unavailable; the service runs degraded', { executor: p.kind, error: p.error });
      }
    },
    (err: unknown) => logger.error('executor probe failed', { err }),
  );
  const router = new Router({
    executor: executors.judge('route', (reason) =>
      logger.warn('the pre-spawned router process gave no answer; routed with a normal call', { reason }),
    ),
    template: loadRouterTemplate('router', config.router.template),
    threshold: config.router.threshold,
    maxCandidates: config.router.max_candidates,
    timeoutMs: config.router.timeout_s * 1000,
  });
  const closer = config.closer.enabled
    ? new Closer({
        executor: executors.judge('close'),
        template: loadCloserTemplate('closer', config.closer.template),
        threshold: config.closer.threshold,
        timeoutMs: config.closer.timeout_s * 1000,
      })
    : null;
  return { executors, router, closer, probeAbort };
}
