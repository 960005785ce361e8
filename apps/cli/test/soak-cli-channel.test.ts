import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, tempDir } from './harness.js';
import { DaemonProcess, cliFeature, decodePlan, jobIdOf, parseOptions, prepareRun, runCliSend } from '@alter0/soak';
import type { MessagePlan } from '@alter0/soak';

// The day profile's CLI channel (tooling/soak/src/day/cli-traffic.ts): the real `alter0 send` against the real
// `alter0 serve`; each accepted job is handed to the core's tracking with its plan; a CLI that finds the daemon
// killed is counted as unreachable, not as a failure.

const AGENT = fileURLToPath(new URL('../../../tooling/soak/dist/agent.js', import.meta.url));
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('soak day: the CLI channel', () => {
  it('sends with alter0 send, hands each job id and plan to the core, and counts a dead daemon as unreachable', async () => {
    const out = tempDir('alter0-soak-cli-');
    dirs.push(out);
    const opts = parseOptions(['--duration', '60s', '--out', path.join(out, 'r.md'), '--kill-every', '0'], BIN);
    const ac = new AbortController();
    const run = prepareRun(opts, { agent: AGENT }, ac.signal, () => undefined);
    dirs.push(run.work);
    const tracked: { id: string; plan: MessagePlan }[] = [];
    const feature = cliFeature({ everyMs: 1500, onAccepted: (id, plan) => tracked.push({ id, plan }) });
    await feature.prepare(run);
    run.daemon = await DaemonProcess.start(run.spec, run.gen, ac.signal);
    run.up = true;
    try {
      await feature.load?.(run, Date.now() + 4000);
      const c = run.result.features.cli ?? {};
      expect(c.sent).toBeGreaterThanOrEqual(1);
      expect(c.accepted).toBe(c.sent);
      expect(tracked).toHaveLength(c.accepted ?? -1);
      for (const t of tracked) {
        const a = await run.api.call((cl, o) => cl.getJob(t.id, o));
        if (a.kind !== 'ok') throw new Error(`job ${t.id}: ${a.kind}`);
        // The job is the CLI's, and its message carries the plan the core was given.
        expect(a.value.content).toContain(`k=${t.plan.key} `);
        expect(decodePlan(a.value.content ?? '')).toEqual(t.plan);
      }
      // The daemon is killed: the CLI cannot reach it, and says so.
      const url = run.daemon.url;
      run.up = false;
      run.daemon.kill9();
      await run.daemon.exited;
      const r = await runCliSend(BIN, url, '[soak k=x-1 exec=ok route=ok close=no] hello', {
        ...{ waitS: 1, timeoutMs: 20_000 },
        signal: ac.signal,
      });
      expect(r).toMatchObject({ jobId: null, unreachable: true });
      expect(r.code).not.toBe(0);
    } finally {
      await run.daemon.stop(5_000, true);
      await feature.close();
    }
  }, 45_000);

  it('reads the job id from the JSON answer only', () => {
    expect(jobIdOf('{"job_id":"j_01jabc","state":"running"}')).toBe('j_01jabc');
    expect(jobIdOf('still working: job j_01jabc (running)')).toBeNull();
    expect(jobIdOf('{"job_id":42}')).toBeNull();
  });
});
