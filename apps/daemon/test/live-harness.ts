import path from 'node:path';
import type { ExecRequest, ExecResult, Executor, ExecutorKind } from '@alter0/core';
import { ExecutorError } from '@alter0/core';
import type { Store } from '@alter0/store';
import { WorkerPool } from '@alter0/queue';
import type { CloseInput, CloseOutcome, Closer } from '@alter0/closing';
import type { RouteInput, RouteOutcome, Router } from '@alter0/routing';
import { createMetrics, nullLogger } from '@alter0/obs';
import type { ApiDeps } from '../src/api.js';
import type { CandidateSource } from '../src/candidates.js';
import type { ExecutorRegistry } from '../src/executors.js';
import { manualCloseRule } from '../src/manual-close.js';
import { createPipeline } from '../src/pipeline.js';
import { Health, buildStatus } from '../src/status.js';
import type { ApiUnderTest, Wiring } from './api-harness.js';
import { apiUnderTest } from './api-harness.js';

/**
 * The API over a store whose jobs really run: the real worker pool and pipeline (route → execute → reply → close),
 * the daemon's close rule and status document. Only the models are scripted, by the message text:
 * - the agent replies `reply to: <text>`; text starting with `fail` fails it (`exit`), text containing `hold`
 *   keeps it running until it is canceled;
 * - the router sends a message to a new task, showing it the open tasks as candidates (a named task_id wins);
 * - the closer closes the task when the message contains `done`, else keeps it open.
 */
export interface LiveApi extends ApiUnderTest {
  /** Flip to false to see the daemon as while shutting down. */
  setAccepting(v: boolean): void;
  close(): Promise<void>;
}

export function liveApiUnderTest(overrides: Partial<ApiDeps> = {}): LiveApi {
  let accepting = true;
  const api = apiUnderTest({ accepting: () => accepting, ...overrides }, liveWiring);
  return { ...api, setAccepting: (v) => (accepting = v), close: async () => api.close() };
}

const template = {
  templateId: 'scripted',
  templateVersion: '1',
  templateHash: 'h',
  promptChars: 10,
  rawOutput: null,
  latencyMs: 1,
  errorClass: null,
};

function agent(): Executor {
  const run = (req: ExecRequest): Promise<ExecResult> => {
    // The execute stage's prompt is the message text itself.
    const text = req.prompt;
    if (text.includes('fail'))
      return Promise.reject(
        new ExecutorError('exit', 'scripted failure (exit 1)', {
          stderrTail: 'stderr of the scripted agent',
          exitCode: 1,
        }),
      );
    if (!text.includes('hold')) {
      return Promise.resolve({
        text: `reply to: ${text}`,
        sessionId: 'session-1',
        usage: { inputTokens: 3, outputTokens: 5 },
        durationMs: 1,
        stderrTail: '',
        pid: null,
      });
    }
    // Like the real adapters: an abort, even one before the agent started, ends the run as `canceled`.
    return new Promise((_, reject) => {
      const stop = (): void => reject(new ExecutorError('canceled', 'canceled'));
      if (req.signal.aborted) return stop();
      req.signal.addEventListener('abort', stop, { once: true });
    });
  };
  return { kind: 'command', probe: () => Promise.reject(new Error('not used')), run } as unknown as Executor;
}

function router(store: Store): Router {
  const route = (input: RouteInput): Promise<RouteOutcome> => {
    const candidates = store.tasks.open(3).map((t) => ({ taskId: t.id, score: 0.5 }));
    const base = { ...template, rejectCode: null, candidates, modelCalled: false as const };
    if (input.explicitTaskId) {
      return Promise.resolve({
        ...base,
        decision: 'existing',
        taskId: input.explicitTaskId,
        confidence: null,
        reason: 'named by the client',
        fallback: 'explicit',
      });
    }
    return Promise.resolve({
      ...base,
      decision: 'new',
      taskId: null,
      confidence: 0.2,
      reason: 'scripted: a new task',
      fallback: candidates.length ? 'low_confidence' : 'no_candidates',
    });
  };
  return { route } as unknown as Router;
}

function closer(): Closer {
  const judge = (input: CloseInput): Promise<CloseOutcome> =>
    Promise.resolve({
      ...template,
      close: input.lastUser.includes('done'),
      confidence: 0.9,
      reason: input.lastUser.includes('done') ? 'the owner said done' : 'more to do',
      fallback: null,
      rejectCode: null,
      modelCalled: true,
    });
  return { judge } as unknown as Closer;
}

const liveWiring: Wiring = ({ store, bus, dir }) => {
  const executors = {
    kinds: () => ['command' as ExecutorKind],
    get: () => agent(),
    probes: new Map(),
    consecutiveFailures: new Map(),
    lastErrorClass: new Map(),
    recordSuccess: () => undefined,
    recordFailure: () => undefined,
  } as unknown as ExecutorRegistry;
  const handler = createPipeline({
    store,
    executors,
    defaultExecutor: 'command',
    router: router(store),
    candidates: { load: () => Promise.resolve([]) } as unknown as CandidateSource,
    routerExecutor: 'command',
    closer: closer(),
    bus,
    logger: nullLogger(),
    metrics: createMetrics(),
    workspaceRoot: path.join(dir, 'workspaces'),
    systemCwd: dir,
    now: Date.now,
  });
  const workers = { interactive: 2, background: 1 };
  const pool = new WorkerPool({
    jobs: store.jobs,
    workers,
    backoff: { initialMs: 5, maxMs: 20, jitter: 0 },
    handler,
    idlePollMs: 10,
    // As the daemon does (boot/workers.ts): waiting requests and event streams learn of every state change.
    hooks: { onChange: (id) => bus.job(id) },
  });
  pool.start();
  const health = new Health(Date.now);
  const startedAt = Date.now();
  return {
    deps: {
      wake: (lane) => pool.wake(lane),
      cancelRunning: (id) => pool.cancel(id),
      // The daemon's own manual close rule (apps/daemon/src/manual-close.ts).
      ...manualCloseRule({ store, bus, metrics: createMetrics(), now: Date.now }),
      status: () =>
        Promise.resolve(
          buildStatus({
            version: '0.0.0-test',
            startedAt,
            now: Date.now,
            health,
            store,
            pool,
            workers,
            executors,
            degradeAfterFailures: 3,
            queueDegradedAgeMs: 60_000,
            url: () => 'http://127.0.0.1:7070',
            accepting: () => true,
            channels: () => [
              { name: 'http', state: 'ok', since: startedAt, lastError: null, restarts: 0, nextRetryAt: null },
            ],
            dataDir: dir,
            scheduler: () => [
              {
                name: 'backup',
                every: '0 3 * * *',
                running: false,
                nextRunAt: startedAt + 1000,
                lastStartAt: null,
                lastSuccessAt: null,
                lastError: null,
                lastErrorAt: null,
                consecutiveFailures: 0,
              },
            ],
            queueFailure: () => null,
          }),
        ),
      metricsText: () => Promise.resolve({ contentType: 'text/plain; version=0.0.4', body: '# alter0 metrics\n' }),
    },
    stop: async () => {
      await pool.drain(200);
    },
  };
};
