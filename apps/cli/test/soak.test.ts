import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, cli, tempDir, until } from './harness.js';
import { createApiClient } from '@alter0/api';
import type { ApiContractError } from '@alter0/api';
import {
  Api,
  NoAnswerError,
  UsageError,
  afterWarmup,
  coveredMs,
  currentMessage,
  decodePlan,
  emptyResult,
  encodePlan,
  expectationOf,
  fillTemplate,
  findAgents,
  floorPerWindow,
  parseDuration,
  parseFaults,
  parseOptions,
  pooledSlopePerHour,
  renderReport,
  slopePerHour,
  summarize,
} from '@alter0/soak';
import type { MessagePlan, Point } from '@alter0/soak';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** The JSON summary block at the end of a report. */
function summaryOf(report: string): Record<string, unknown> {
  const m = /```json\n([\s\S]*?)\n```/.exec(report);
  if (!m?.[1]) throw new Error(`the report has no JSON summary block:\n${report.slice(0, 2000)}`);
  return JSON.parse(m[1]) as Record<string, unknown>;
}

const HOUR = 3_600_000;
const TEMPLATE = fs.readFileSync(new URL('../../../docs/soak-template.md', import.meta.url), 'utf8');

/**
 * The violations of one daemon lifetime sampled once a minute for `minutes` (slopes judged after 15 of them, no
 * warm-up): RSS is the committed V8 heaps plus native memory, each given by minute (MB); the heap in use is flat.
 * `edit` adds what else the run saw (a moment).
 */
function lifetimeViolations(
  minutes: number,
  committedAt: (m: number) => number,
  nativeAt: (m: number) => number,
  edit?: (r: ReturnType<typeof emptyResult>) => void,
): string[] {
  const opts = parseOptions(
    ['--duration', '1h', '--out', '/nowhere.md', '--warmup', '0s', '--min-slope-window', '15m'],
    BIN,
  );
  const r = emptyResult(opts, 'r', '/nowhere');
  r.startedAt = 0;
  r.endedAt = r.loadEndedAt = minutes * 60_000;
  for (let m = 0; m <= minutes; m++) {
    const t = m * 60_000;
    const committed = committedAt(m);
    const native = nativeAt(m);
    r.samples.rssMb.push({ t, v: committed + native, gen: 1 });
    r.samples.heapCommittedMb.push({ t, v: committed, gen: 1 });
    r.samples.nativeMb.push({ t, v: native, gen: 1 });
    r.samples.heapMb.push({ t, v: 24, gen: 1 });
  }
  edit?.(r);
  return renderReport(r, TEMPLATE).violations.map((v) => v.detail);
}

describe('soak harness pieces', () => {
  it("finds this run's agents, and not one that is exiting (its memory released, its environment empty)", () => {
    const root = tempDir('alter0-soak-proc-');
    dirs.push(root);
    const proc = (pid: number, o: { run: string; env: string[]; vm: boolean; state?: string }): void => {
      const dir = path.join(root, String(pid));
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'cmdline'), ['node', 'agent.js', '--soak-run', o.run, '--x', '1', ''].join('\0'));
      fs.writeFileSync(path.join(dir, 'stat'), `${pid} (node) ${o.state ?? 'S'} 4242 ${pid} 0`);
      fs.writeFileSync(path.join(dir, 'environ'), o.env.map((kv) => `${kv}\0`).join(''));
      fs.writeFileSync(path.join(dir, 'status'), `Name:\tnode\n${o.vm ? 'VmRSS:\t  5120 kB\n' : ''}Threads:\t1\n`);
    };
    const env = ['SOAK_GEN=3', 'ALTER0_JOB_ID=j_1', 'ALTER0_STAGE=execute'];
    proc(101, { run: 'r1', env, vm: true });
    proc(102, { run: 'r2', env, vm: true }); // another run's agent
    proc(103, { run: 'r1', env: [], vm: false }); // exiting: read as "generation 0" before, reported as an orphan
    proc(104, { run: 'r1', env, vm: true, state: 'Z' });
    proc(105, { run: 'r1', env: [], vm: true }); // alive with an empty environment: still an agent
    fs.mkdirSync(path.join(root, 'self'));
    const found = findAgents('r1', root).sort((a, b) => a.pid - b.pid);
    expect(found).toEqual([
      { pid: 101, gen: 3, job: 'j_1', stage: 'execute', ppid: 4242, envVars: 3, args: '--x 1' },
      { pid: 105, gen: 0, job: '', stage: '', ppid: 4242, envVars: 0, args: '--x 1' },
    ]);
  });

  it("judges RSS's slope by its parts: V8's committed heap may grow, memory outside it may not", () => {
    /** 40 minutes of one lifetime: committed V8 heaps and native memory each growing as given (MB/h). */
    const judged = (committedPerH: number, nativePerH: number): string[] =>
      lifetimeViolations(
        40,
        (m) => 38 + (committedPerH * m) / 60,
        (m) => 120 + (nativePerH * m) / 60,
      );
    // The JIT's and old space's first hour: RSS +20 MB/h, all of it V8's committed heap, the heap in use flat.
    expect(judged(20, 0)).toEqual([]);
    // The same RSS growth outside V8 is a leak.
    expect(judged(0, 20)).toEqual([
      expect.stringMatching(/^daemon native memory \(RSS less V8 heaps\): grows 20\.00 MB\/h/),
    ]);
    // Past the maximum, RSS fails whatever its parts.
    expect(judged(800, 0)).toEqual([expect.stringMatching(/^daemon RSS: max .* above the bound of 512 MB/)]);
  });

  it("states the run's kills in the configuration: the day profile's storm, or the mean wait between kills", () => {
    const configRow = (argv: string[]): string | undefined => {
      const r = emptyResult(parseOptions(['--duration', '2h', ...argv, '--out', '/nowhere.md'], BIN), 'r', '/nowhere');
      return renderReport(r, TEMPLATE)
        .markdown.split('\n')
        .find((l) => l.startsWith('| kill -9 '));
    };
    // The day profile kills in its storm; its reports said "never" for lack of a mean wait.
    expect(configRow(['--profile', 'day'])).toBe(
      '| kill -9 | 1050 kill -9s in the storm after the calm 50 % (spread over it) |',
    );
    expect(configRow(['--kill-every', '8s'])).toBe('| kill -9 | kill -9 every ~8s mean (uniform 0.5–1.5×) |');
    expect(configRow(['--kill-every', '0s'])).toBe('| kill -9 | no kill -9 |');
  });

  it('fits memory apart before and after a SIGSTOP: a step on SIGCONT passes, growth within the stretches fails', () => {
    /** 50 minutes of one lifetime, stopped for 21 s at minute 20: native = 110 + growth + step, V8's heaps flat. */
    const stoppedAt = 20 * 60_000 + 10_000;
    const continuedAt = stoppedAt + 21_000;
    const judged = (nativePerH: number, step: number, paused: boolean): string[] =>
      lifetimeViolations(
        50,
        () => 40,
        (m) => 110 + (nativePerH * m) / 60 + (m * 60_000 > continuedAt ? step : 0),
        (r) => {
          if (paused)
            r.moments.push({
              name: 'sigstop_within_watchdog',
              startedAt: stoppedAt,
              endedAt: continuedAt + 60_000,
              ok: true,
              observed: {},
              pause: { stoppedAt, continuedAt },
            });
        },
      );
    const native = /^daemon native memory \(RSS less V8 heaps\): grows/;
    // The eighth day: +12 MB on SIGCONT after the 21 s stop, flat before and after. One line across reads a slope.
    expect(judged(0, 12, false)).toEqual([expect.stringMatching(native)]);
    expect(judged(0, 12, true)).toEqual([]);
    // A leak goes on within the stretches: still caught, step or not.
    expect(judged(20, 0, true)).toEqual([expect.stringMatching(native)]);
    expect(judged(20, 12, true)).toEqual([expect.stringMatching(native)]);
  });

  it('carries a fault plan in the message and finds the current message in router and closer prompts', () => {
    const plan: MessagePlan = { key: 'm1-7', exec: 'rate_limited', n: 2, route: 'malformed', close: 'yes' };
    const text = `${encodePlan(plan)} deploy report`;
    expect(decodePlan(text)).toEqual(plan);
    expect(decodePlan('no marker here')).toBeNull();
    const other = encodePlan({ key: 'other', exec: 'auth', n: 1, route: 'ok', close: 'no' });
    // The router quotes other tasks (with their markers) before the new message: only the new one counts.
    const routePrompt = `OPEN TASKS:\n- t_x ${other}\n\nNEW MESSAGE:\n<<<\n${text}\n>>>\n\nReply with JSON`;
    expect(decodePlan(currentMessage('route', routePrompt))?.key).toBe('m1-7');
    const closePrompt = `TASK:\n${other}\n\nLAST USER MESSAGE:\n<<<\n${text}\n>>>\n\nLAST ASSISTANT REPLY:\n<<<\nok\n>>>`;
    expect(decodePlan(currentMessage('close', closePrompt))?.key).toBe('m1-7');
    expect(currentMessage('execute', text)).toBe(text);
  });

  it('predicts the outcome of a plan: retryable faults within the attempts succeed, beyond them fail; auth fails once', () => {
    const p = (exec: MessagePlan['exec'], n: number): MessagePlan => ({ key: 'k', exec, n, route: 'ok', close: 'no' });
    expect(expectationOf(p('rate_limited', 2), 3).first).toEqual({ state: 'succeeded', errorClass: null });
    expect(expectationOf(p('unavailable', 3), 3).first).toEqual({ state: 'failed', errorClass: 'unavailable' });
    expect(expectationOf(p('hang', 3), 3).first).toEqual({ state: 'failed', errorClass: 'timeout' });
    expect(expectationOf(p('hang', 1), 3).first).toEqual({ state: 'succeeded', errorClass: null });
    expect(expectationOf(p('auth', 1), 3)).toEqual({
      first: { state: 'failed', errorClass: 'auth' },
      retry: 'succeeded',
    });
    expect(expectationOf(p('long', 1500), 3).first.state).toBe('succeeded');
  });

  it('fits growth within daemon lifetimes, so a restart sawtooth is not growth and growth between restarts is seen', () => {
    // Three lifetimes, each flat at a different level: no growth, whatever the restarts did.
    const flat: Point[] = [];
    for (let gen = 1; gen <= 3; gen++)
      for (let i = 0; i < 10; i++) flat.push({ t: gen * HOUR + i * 60_000, v: 100 * gen, gen });
    expect(pooledSlopePerHour(flat)).toBeCloseTo(0, 6);
    // Across lifetimes the same points look like steep growth: that is what the per-lifetime fit avoids.
    expect(slopePerHour(flat)).toBeGreaterThan(50);
    // Each lifetime grows 6 MB/h from a low start (the sawtooth of a leak cut short by kills).
    const saw: Point[] = [];
    for (let gen = 1; gen <= 3; gen++)
      for (let i = 0; i < 10; i++) saw.push({ t: gen * HOUR + i * 60_000, v: 50 + (6 * i) / 60, gen });
    expect(pooledSlopePerHour(saw)).toBeCloseTo(6, 6);
    expect(slopePerHour(saw)).toBeLessThan(6);
    expect(coveredMs(saw)).toBe(3 * 9 * 60_000);
    expect(afterWarmup(saw, 5 * 60_000)).toHaveLength(3 * 5);
    expect(pooledSlopePerHour(saw.slice(0, 2))).toBeNull();
    expect(summarize([3, 1, 2, 10])).toEqual({ n: 4, min: 1, median: 2.5, max: 10 });
  });

  it('judges growth on the floor: spikes that fall back are not growth, a rising floor is', () => {
    // Flat at 200 MB with a 150 MB spike every 5 minutes lasting 30 s (sampled every 5 s, one lifetime).
    const spiky: Point[] = [];
    for (let i = 0; i < 360; i++) spiky.push({ t: i * 5000, v: 200 + (i % 60 < 6 ? 150 : 0) + (i % 7) * 0.5, gen: 1 });
    expect(Math.abs(pooledSlopePerHour(floorPerWindow(spiky, 60_000)) ?? Infinity)).toBeLessThan(1);
    // The same spikes on a floor that rises 20 MB/h.
    const leaky = spiky.map((p) => ({ ...p, v: p.v + (20 * p.t) / HOUR }));
    expect(pooledSlopePerHour(floorPerWindow(leaky, 60_000))).toBeCloseTo(20, 0);
    expect(floorPerWindow(spiky, 60_000)).toHaveLength(30);
  });

  it('parses durations and fault rates, and says what is wrong', () => {
    expect(parseDuration('90s', 'duration')).toBe(90_000);
    expect(parseDuration('1h30m', 'duration')).toBe(5_400_000);
    expect(parseDuration('0', 'kill-every')).toBe(0);
    expect(() => parseDuration('soon', 'duration')).toThrow(/--duration "soon": expected a duration/);
    expect(parseFaults('hang=0.5').hang).toBe(0.5);
    expect(() => parseFaults('gremlins=0.1')).toThrow(UsageError);
    expect(() => parseFaults('slow=0.6,hang=0.6')).toThrow(/add up to 1\.\d*, more than 1/);
  });

  it("talks through @alter0/api's client: a drift is reported and returned, a refusal is refused, no answer throws NoAnswerError", async () => {
    const job = { id: 'j_00000000000000000000000000', state: 'bogus' };
    const client = createApiClient({
      baseUrl: 'http://soak.invalid',
      fetch: (url, init) => {
        if (url.endsWith('/api/jobs/j_drift')) return Promise.resolve(Response.json(job));
        if (url.endsWith('/api/jobs/j_gone'))
          return Promise.resolve(
            Response.json({ error: { code: 'not_found', message: 'no such job' } }, { status: 404 }),
          );
        // A daemon that never answers: only the request's time bound ends the wait.
        if (url.endsWith('/api/jobs/j_slow'))
          return new Promise((_, reject) => init.signal?.addEventListener('abort', () => reject(init.signal?.reason)));
        return Promise.reject(new TypeError('fetch failed'));
      },
    });
    const drifts: ApiContractError[] = [];
    let up = true;
    const api = new Api(
      () => (up ? client : null),
      new AbortController().signal,
      (e) => drifts.push(e),
    );
    const drift = await api.call((c, o) => c.getJob('j_drift', o));
    expect(drift).toMatchObject({ kind: 'drift', status: 200 });
    expect(drifts).toHaveLength(1);
    expect(drifts[0]?.message).toContain('GET /api/jobs/{id}');
    expect(await api.call((c, o) => c.getJob('j_gone', o))).toEqual({
      kind: 'refused',
      status: 404,
      code: 'not_found',
    });
    await expect(api.call((c, o) => c.getJob('j_down', o))).rejects.toThrow(NoAnswerError);
    await expect(api.call((c, o) => c.getJob('j_slow', o), 50)).rejects.toThrow(/no answer within 50 ms/);
    up = false;
    await expect(api.call((c, o) => c.getJob('j_drift', o))).rejects.toThrow(NoAnswerError);
    expect(drifts).toHaveLength(1);
  });

  it('fills the report template strictly: no unknown placeholder, no value left out', () => {
    expect(fillTemplate('a {{x}} b', { x: '1' })).toBe('a 1 b');
    expect(() => fillTemplate('a {{y}}', { y: '1', x: '2' })).toThrow(/lacks the placeholders \{\{x\}\}/);
    expect(() => fillTemplate('a {{z}}', {})).toThrow(/unknown placeholder \{\{z\}\}/);
    const template = fs.readFileSync(new URL('../../../docs/soak-template.md', import.meta.url), 'utf8');
    expect(template).toContain('{{violations_list}}');
    expect(template).toContain('{{summary_json}}');
  });
});

describe('alter0 soak (the real daemon, kill -9 every ~8 s)', () => {
  it('runs a short soak with faults and kills, and reports 0 violations, ≥ 3 restarts and every outcome', async () => {
    const dir = tempDir('alter0-soak-test-');
    dirs.push(dir);
    const out = path.join(dir, 'report.md');
    const r = await cli([
      'soak',
      '--duration',
      '60s',
      '--kill-every',
      '8s',
      '--job-timeout',
      '5s',
      '--long',
      '2s',
      '--rate',
      '1.5',
      '--sample-every',
      '2s',
      '--seed',
      '42',
      '--faults',
      'slow=0.08,hang=0.06,rate_limited=0.08,unavailable=0.08,auth=0.06,malformed_route=0.08,malformed_close=0.08',
      '--out',
      out,
    ]);
    const report = fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '';
    const context = `exit ${r.code}\n${r.stderr.slice(-4000)}\n${report.slice(report.indexOf('## Violations'), report.indexOf('## Resources'))}`;
    expect(r.code, context).toBe(0);
    expect(report).toMatch(/^# alter0 soak report: PASS/);
    const s = summaryOf(report) as {
      violations: { total: number };
      restarts: { count: number; median_ms: number; max_ms: number };
      outcomes: Record<string, number>;
      faults_injected: Record<string, number>;
      checks: Record<string, number>;
      accepted: number;
      drained: boolean;
    };
    expect(s.violations.total, context).toBe(0);
    expect(s.drained).toBe(true);
    expect(s.restarts.count).toBeGreaterThanOrEqual(3);
    expect(s.restarts.max_ms).toBeGreaterThan(0);
    expect(s.accepted).toBeGreaterThan(40);
    for (const kind of ['succeeded', 'succeeded_after_retry', 'failed', 'canceled']) {
      expect(s.outcomes[kind], `outcome ${kind}`).toBeGreaterThan(0);
    }
    for (const fault of ['rate_limited', 'unavailable', 'auth', 'malformed_route', 'malformed_close', 'slow']) {
      expect(s.faults_injected[fault], `fault ${fault}`).toBeGreaterThan(0);
    }
    // The checks really ran: after every restart and at the end.
    expect(s.checks.integrity).toBe(s.restarts.count + 1);
    expect(s.checks.orphan_process).toBe(s.restarts.count + 1);
    expect(s.checks.lost_message).toBeGreaterThanOrEqual(s.accepted);
    expect(s.checks.unexpected_outcome).toBeGreaterThan(0);
    expect(report).toMatch(/\| daemon RSS \(MB\) \| \d/);
  }, 180_000);

  it('on SIGINT stops the load and the daemon, leaves no agent or daemon behind, and still writes the report', async () => {
    const dir = tempDir('alter0-soak-int-');
    dirs.push(dir);
    const out = path.join(dir, 'report.md');
    const data = path.join(dir, 'data');
    const p = spawn(
      process.execPath,
      [
        BIN,
        'soak',
        '--duration',
        '10m',
        '--kill-every',
        '0',
        '--job-timeout',
        '30s',
        '--rate',
        '3',
        '--faults',
        'hang=0.5',
        '--data',
        data,
        '--out',
        out,
      ],
      {
        env: { ...process.env, ALTER0_CONFIG: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    p.stdout.on('data', () => undefined);
    const exited = new Promise<number | null>((resolve) => p.on('exit', (c) => resolve(c)));
    const runId = await until(() => /run (soak-[a-z0-9-]+)/.exec(stderr)?.[1], {
      timeoutMs: 30_000,
      what: 'the soak to start its daemon',
    });
    const daemonPid = Number(/\(pid (\d+)\)/.exec(stderr)?.[1]);
    // Some hanging agents are running when the signal comes.
    await until(() => findAgents(runId).length >= 2, { timeoutMs: 20_000, what: 'agents to be running' });
    p.kill('SIGINT');
    expect(await exited, stderr.slice(-3000)).toBe(130);
    // The agents were sent SIGKILL before the soak exited; a killed process takes a moment to die on a busy machine.
    await until(() => findAgents(runId).length === 0, {
      timeoutMs: 15_000,
      what: `no agent of run ${runId} left`,
    }).catch((err: unknown) => {
      throw new Error(`${String(err)}; still running: ${JSON.stringify(findAgents(runId))}`);
    });
    expect(() => process.kill(daemonPid, 0)).toThrow();
    const report = fs.readFileSync(out, 'utf8');
    expect(report).toMatch(/^# alter0 soak report: FAIL/);
    expect(report).toContain('the run was interrupted');
    expect((summaryOf(report) as { interrupted: boolean }).interrupted).toBe(true);
    // --data is kept for inspection.
    expect(fs.existsSync(path.join(data, 'alter0.db'))).toBe(true);
  }, 90_000);

  it('refuses bad flags with a message that names the flag (exit 2)', async () => {
    const dir = tempDir('alter0-soak-usage-');
    dirs.push(dir);
    const r = await cli(['soak', '--duration', 'forever', '--out', path.join(dir, 'r.md')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--duration "forever": expected a duration');
  });
});
