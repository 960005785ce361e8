import { setTimeout as delay } from 'node:timers/promises';
import { register as globalRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics, DURATION_BUCKETS } from '../src/metrics.js';

describe('createMetrics', () => {
  it('renders every alter0 metric with its labels in the Prometheus text format', async () => {
    const m = createMetrics();
    m.accepted('http');
    m.jobFinished('interactive', 'succeeded');
    m.jobFinished('background', 'failed');
    m.stageDuration('execute', 12.5);
    m.queueDepth('interactive', 3);
    m.oldestQueuedAge('interactive', 4.5);
    m.running(2);
    m.executorError('claude', 'rate_limited');
    m.routeDecision('new', 'low_confidence');
    m.routeDecision('existing', null);
    m.closeDecision('manual', 'close');
    m.rescuedJobs(2);
    m.rescuedJobs(0);
    m.tasksOpen(5);
    m.maintenance('backup', { lastSuccessTs: 1_700_000_000_000, consecutiveFailures: 1 });
    m.buildInfo('0.1.0', 'abc123', 'v24.0.0');
    const { contentType, body } = await m.render();
    expect(contentType).toMatch(/^text\/plain/);
    for (const line of [
      'alter0_messages_accepted_total{channel="http"} 1',
      'alter0_jobs_finished_total{lane="interactive",outcome="succeeded"} 1',
      'alter0_jobs_finished_total{lane="background",outcome="failed"} 1',
      'alter0_stage_duration_seconds_count{stage="execute"} 1',
      'alter0_stage_duration_seconds_sum{stage="execute"} 12.5',
      'alter0_queue_depth{lane="interactive"} 3',
      'alter0_queue_oldest_age_seconds{lane="interactive"} 4.5',
      'alter0_jobs_running 2',
      'alter0_executor_errors_total{executor="claude",class="rate_limited"} 1',
      'alter0_route_decisions_total{outcome="new",fallback="low_confidence"} 1',
      'alter0_route_decisions_total{outcome="existing",fallback="none"} 1',
      'alter0_close_decisions_total{source="manual",action="close"} 1',
      'alter0_rescued_jobs_total 2',
      'alter0_tasks_open 5',
      'alter0_maintenance_last_success_timestamp_seconds{job="backup"} 1700000000',
      'alter0_maintenance_consecutive_failures{job="backup"} 1',
      'alter0_build_info{version="0.1.0",commit="abc123",node="v24.0.0"} 1',
    ]) {
      expect(body.split('\n'), line).toContain(line);
    }
    expect(body).toContain('process_cpu_user_seconds_total');
    expect(body).toContain('nodejs_eventloop_lag_seconds');
  });

  it("counts the database's commits by durability from the store's running totals", async () => {
    const m = createMetrics({ processMetrics: false });
    m.dbCommits({ durable: 3, relaxed: 5 });
    m.dbCommits({ durable: 6, relaxed: 5 });
    const body = (await m.render()).body;
    expect(body).toContain('alter0_db_commits_total{durability="durable"} 6');
    expect(body).toContain('alter0_db_commits_total{durability="relaxed"} 5');
  });

  it('has stage buckets from 5 ms up to 4 h', async () => {
    const m = createMetrics({ processMetrics: false });
    expect(DURATION_BUCKETS[0]).toBe(0.005);
    expect(DURATION_BUCKETS[DURATION_BUCKETS.length - 1]).toBe(4 * 3600);
    m.stageDuration('execute', 3 * 3600);
    m.stageDuration('route', 0.003);
    m.stageDuration('route', Number.NaN);
    const { body } = await m.render();
    expect(body).toContain('alter0_stage_duration_seconds_bucket{le="0.005",stage="route"} 1');
    expect(body).toContain('alter0_stage_duration_seconds_bucket{le="7200",stage="execute"} 0');
    expect(body).toContain('alter0_stage_duration_seconds_bucket{le="14400",stage="execute"} 1');
  });

  it('keeps its own registry: two instances coexist and the global registry stays empty', async () => {
    const a = createMetrics({ processMetrics: false });
    const b = createMetrics({ processMetrics: false });
    a.running(1);
    b.running(7);
    expect((await a.render()).body).toContain('alter0_jobs_running 1');
    expect((await b.render()).body).toContain('alter0_jobs_running 7');
    expect(await globalRegistry.metrics()).not.toContain('alter0_');
  });

  it("reads a worker thread's heap at each scrape and drops it while the worker has no thread", async () => {
    const m = createMetrics({ processMetrics: false });
    let heap: { usedBytes: number; totalBytes: number } | null = { usedBytes: 15e6, totalBytes: 20e6 };
    m.workerHeap('candidates', () => heap);
    const first = (await m.render()).body.split('\n');
    expect(first).toContain('alter0_worker_heap_bytes{worker="candidates",kind="used"} 15000000');
    expect(first).toContain('alter0_worker_heap_bytes{worker="candidates",kind="total"} 20000000');
    heap = { usedBytes: 16e6, totalBytes: 20e6 };
    expect((await m.render()).body).toContain('alter0_worker_heap_bytes{worker="candidates",kind="used"} 16000000');
    heap = null;
    expect((await m.render()).body).not.toContain('alter0_worker_heap_bytes{');
  });

  it('caps client-chosen channel labels and removes gauges that no longer apply', async () => {
    const m = createMetrics({ processMetrics: false, maxChannels: 2 });
    for (const c of ['cli', 'http', 'x1', 'x2', 'cli']) m.accepted(c);
    m.oldestQueuedAge('background', 9);
    m.oldestQueuedAge('background', null);
    m.maintenance('retention', { lastSuccessTs: 5000, consecutiveFailures: 0 });
    m.maintenance('retention', { lastSuccessTs: null, consecutiveFailures: 3 });
    m.buildInfo('1', 'a', 'n');
    m.buildInfo('2', 'b', 'n');
    const { body } = await m.render();
    expect(body).toContain('alter0_messages_accepted_total{channel="cli"} 2');
    expect(body).toContain('alter0_messages_accepted_total{channel="other"} 2');
    expect(body).not.toContain('channel="x1"');
    expect(body).not.toContain('alter0_queue_oldest_age_seconds{');
    expect(body).not.toContain('alter0_maintenance_last_success_timestamp_seconds{');
    expect(body).toContain('alter0_maintenance_consecutive_failures{job="retention"} 3');
    expect(body).not.toContain('version="1"');
    expect(body).toContain('alter0_build_info{version="2",commit="b",node="n"} 1');
  });

  it('reports the event loop delay since the previous scrape: a 50 ms block shows in the max, then is gone', async () => {
    const m = createMetrics();
    const value = (body: string, series: string): number => {
      const line = body.split('\n').find((l) => l.startsWith(`${series} `));
      if (line === undefined) throw new Error(`${series} is not in /metrics`);
      return Number(line.slice(series.length + 1));
    };
    await m.render(); // starts the interval
    await delay(50);
    const t = performance.now();
    while (performance.now() - t < 50) {
      // Hold the event loop, as a long synchronous call would.
    }
    await delay(50);
    const blocked = (await m.render()).body;
    expect(value(blocked, 'alter0_event_loop_delay_max_seconds')).toBeGreaterThanOrEqual(0.035);
    expect(value(blocked, 'alter0_event_loop_delay_max_seconds')).toBeLessThan(5);
    expect(value(blocked, 'alter0_event_loop_delay_seconds{percentile="99"}')).toBeGreaterThanOrEqual(0.035);
    expect(value(blocked, 'alter0_event_loop_delay_seconds{percentile="50"}')).toBeLessThan(
      value(blocked, 'alter0_event_loop_delay_max_seconds'),
    );
    expect(value(blocked, 'alter0_event_loop_utilization_ratio')).toBeGreaterThan(0.2);
    expect(value(blocked, 'alter0_event_loop_utilization_ratio')).toBeLessThanOrEqual(1);

    await delay(100);
    const idle = (await m.render()).body;
    expect(value(idle, 'alter0_event_loop_delay_max_seconds')).toBeLessThan(
      value(blocked, 'alter0_event_loop_delay_max_seconds'),
    );
    expect(value(idle, 'alter0_event_loop_utilization_ratio')).toBeLessThan(0.5);
    // One source per figure: prom-client's copies of the same quantiles are not rendered; its probe stays.
    expect(idle).toContain('nodejs_eventloop_lag_seconds ');
    expect(idle).not.toMatch(/^nodejs_eventloop_lag_(min|max|mean|stddev|p50|p90|p99)_seconds/m);
    expect(idle.match(/^# TYPE alter0_event_loop_delay_max_seconds /gm)).toHaveLength(1);
  });

  it('has no event-loop monitor without process metrics', async () => {
    const { body } = await createMetrics({ processMetrics: false }).render();
    expect(body).not.toContain('alter0_event_loop');
  });
});
