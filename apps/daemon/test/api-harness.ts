import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Hono } from 'hono';
import { Store } from '@alter0/store';
import { createMetrics, nullLogger } from '@alter0/obs';
import type { StatusDocument } from '@alter0/api';
import type { ApiDeps } from '../src/api.js';
import { createApi } from '../src/api.js';
import { Bus } from '../src/bus.js';
import { Intake } from '../src/intake.js';
import { ScheduleService } from '../src/schedules/service.js';
import { Approvals } from '../src/approvals/service.js';

/** The hono app in-process over a real store in a temp directory; nothing runs the queued jobs. */
export interface ApiUnderTest {
  app: Hono;
  store: Store;
  /** The approvals service the API serves (tests open run tokens with it). */
  approvals: Approvals;
  bus: Bus;
  /** `app.request` with `Host: localhost` (an allowed name) unless the headers name another. */
  request(p: string, init?: RequestInit): Promise<Response>;
  /** POST a JSON body. */
  post(p: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  /** Also stops what `wire` started (awaited only where something runs). */
  close(): void | Promise<void>;
}

/** Deps built over the harness's store (a pool, the real close rule, …) and how to stop what they started. */
export type Wiring = (world: { store: Store; bus: Bus; dir: string }) => {
  deps: Partial<ApiDeps>;
  stop?: () => Promise<void>;
};

export function apiUnderTest(overrides: Partial<ApiDeps> = {}, wire?: Wiring): ApiUnderTest {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alter0-api-'));
  const store = Store.open({ file: path.join(dir, 'alter0.db') });
  const bus = new Bus();
  const wired = wire?.({ store, bus, dir });
  const merged: Omit<ApiDeps, 'intake'> & Partial<Pick<ApiDeps, 'intake'>> = {
    store,
    bus,
    logger: nullLogger(),
    metrics: createMetrics(),
    allowedHosts: new Set(['localhost', '127.0.0.1']),
    token: null,
    defaults: { waitMs: 0, maxWaitMs: 1000, bodyLimitBytes: 1_048_576, timeoutS: 60, maxAttempts: 1 },
    limits: { eventStreams: 32, queueDepth: 10_000 },
    wake: () => undefined,
    cancelRunning: () => undefined,
    announce: () => undefined,
    approvals: new Approvals({
      ...{ store, bus, logger: nullLogger(), now: Date.now, redact: (t: string) => t },
      mode: 'ask',
      allow: [],
      timeoutMs: 60_000,
      url: () => 'http://127.0.0.1:7070',
    }),
    schedules: new ScheduleService({
      ...{ store, bus, logger: nullLogger(), metrics: createMetrics(), now: Date.now },
      ...{ missed: 'once' as const, maxFailures: 5, onAccepted: () => undefined },
      defaults: { timeoutS: 60, maxAttempts: 1, queueDepth: 10_000 },
    }),
    closeTask: () => undefined,
    reopenTask: () => undefined,
    status: () => Promise.resolve(quietStatus()),
    accepting: () => true,
    now: Date.now,
    ...wired?.deps,
    ...overrides,
  };
  // The daemon's own intake (group commit), waking whatever `wake` the wiring gave.
  const intake =
    merged.intake ??
    new Intake({
      store,
      onAccepted: ({ job }) => {
        merged.metrics.accepted(job.channelId);
        merged.wake(job.lane);
        bus.job(job.id);
      },
    });
  const app = createApi({ ...merged, intake });
  const request = async (p: string, init: RequestInit = {}): Promise<Response> => {
    const headers = new Headers(init.headers);
    if (!headers.has('host')) headers.set('host', 'localhost');
    return app.request(p, { ...init, headers });
  };
  return {
    app,
    store,
    approvals: merged.approvals,
    bus,
    request,
    post: (p, body, headers = {}) =>
      request(p, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      }),
    close() {
      const cleanUp = (): void => {
        store.close();
        fs.rmSync(dir, { recursive: true, force: true });
      };
      if (!wired?.stop) return cleanUp();
      return wired.stop().then(cleanUp);
    },
  };
}

export async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  const body = (await res.json()) as { error: { code: string; message: string } };
  return body.error;
}

/** A status document of an idle daemon with every component ok (the harness serves it; its shape is the contract's). */
function quietStatus(): StatusDocument {
  const at = new Date().toISOString();
  const ok = <D>(details: D) => ({ state: 'ok' as const, since: at, last_error: null, details });
  const lanes = { interactive: 0, background: 0 };
  return {
    version: '0.0.0-test',
    started_at: at,
    uptime_s: 0,
    state: 'ok',
    components: {
      gateway: ok({
        url: null,
        accepting: true,
        channels: [
          {
            name: 'http',
            state: 'ok' as const,
            since: '2026-01-01T00:00:00.000Z',
            last_error: null,
            restarts: 0,
            next_retry_at: null,
          },
        ],
        outbox: { pending: 0, dead: 0, oldest_pending_age_ms: null, last_error: null },
      }),
      queue: ok({
        depth: lanes,
        oldest_queued_age_ms: { interactive: null, background: null },
        running: 0,
        workers: { total: lanes, busy: lanes },
        jobs_by_state: { queued: 0, running: 0, succeeded: 0, failed: 0, canceled: 0 },
      }),
      executor: ok({ executors: [] }),
      scheduler: ok({
        jobs: [],
        schedules: { count: 0, active: 0, paused: 0, next_run_at: null, next_id: null, paused_ids: [], failing: 0 },
      }),
      storage: ok({ db_bytes: 0, wal_bytes: 0, schema_version: 1, free_bytes: null, data_dir: '/nonexistent' }),
    },
  };
}
