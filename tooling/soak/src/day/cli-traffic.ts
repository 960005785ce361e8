// The day profile's CLI channel: now and then a message sent with the real CLI (`alter0 send --json`), as the
// owner would type it, carrying a plan marker; the job id it prints is handed to the core to track like its own.
// A CLI that cannot reach the daemon (killed a moment ago) is counted, not a failure: nothing was promised.
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { inheritedEnv } from '@alter0/testkit';
import { encodePlan } from '../plan.js';
import type { MessagePlan } from '../plan.js';
import { createRng } from '../rng.js';
import type { Rng } from '../rng.js';
import type { SoakFeature } from './feature.js';

export interface CliTrafficOptions {
  /** Mean time between CLI sends (each spawns Node: keep it modest on a small host). Default 20 s. */
  everyMs?: number;
  /** `--wait` of `alter0 send`, seconds. Default 2. */
  waitS?: number;
  /** Bound on one CLI process. Default 30 s. */
  processTimeoutMs?: number;
  /** A job the CLI got accepted (a 2xx with its id): the core tracks it from here on. */
  onAccepted?: (jobId: string, plan: MessagePlan) => void;
}

/** How one CLI run ended. */
export interface CliOutcome {
  code: number | null;
  jobId: string | null;
  /** The CLI said it could not reach the daemon. */
  unreachable: boolean;
  stderr: string;
}

/** What `alter0 send --json` printed: the job id of a 200 or a 202 answer, or null. */
export function jobIdOf(stdout: string): string | null {
  try {
    const body = JSON.parse(stdout) as { job_id?: unknown };
    return typeof body.job_id === 'string' && /^j_[0-9a-z]+$/i.test(body.job_id) ? body.job_id : null;
  } catch {
    return null;
  }
}

/** Runs `alter0 send` against `url` with the run's signal and a time bound. */
export function runCliSend(
  bin: string,
  url: string,
  text: string,
  o: { waitS: number; timeoutMs: number; signal: AbortSignal },
): Promise<CliOutcome> {
  return new Promise((resolve) => {
    // The owner's environment, minus anything that would point the CLI at another alter0 or token.
    const env = inheritedEnv();
    delete env.ALTER0_TOKEN;
    delete env.ALTER0_URL;
    const child = spawn(process.execPath, [bin, 'send', '--addr', url, '--json', '--wait', String(o.waitS), text], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      signal: AbortSignal.any([o.signal, AbortSignal.timeout(o.timeoutMs)]),
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-100_000)));
    child.stderr.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-4000)));
    child.on('error', () => undefined);
    child.on('close', (code) =>
      resolve({
        code,
        jobId: code === 0 ? jobIdOf(out) : null,
        unreachable: /cannot reach alter0/.test(err),
        stderr: err,
      }),
    );
  });
}

/** The CLI channel feature (see the file's head). */
export function cliFeature(opts: CliTrafficOptions = {}): SoakFeature {
  const c: Record<string, number> = { sent: 0, accepted: 0, unreachable: 0, failed: 0 };
  let rng: Rng = createRng(0x636c69);
  let seq = 0;
  return {
    name: 'cli',
    prepare(run) {
      run.result.features.cli = c;
      rng = createRng(run.opts.seed ^ 0x636c69);
      return Promise.resolve({ sets: [], env: {} });
    },
    async load(run, loadEnd) {
      const every = opts.everyMs ?? 20_000;
      while (!run.signal.aborted && run.loadOn && Date.now() < loadEnd) {
        const wait = Math.min(every * (0.5 + rng.next()), Math.max(0, loadEnd - Date.now()));
        const stopped = await sleep(wait, undefined, { signal: run.signal }).then(
          () => false,
          () => true,
        );
        const d = run.daemon;
        if (stopped || Date.now() >= loadEnd || !run.up || d === null) continue;
        const plan: MessagePlan = {
          key: `cli${(seq++).toString(36)}-${run.opts.seed}`,
          exec: 'ok',
          n: 0,
          route: 'ok',
          close: rng.chance(0.6) ? 'yes' : 'no',
        };
        c.sent = (c.sent ?? 0) + 1;
        const r = await runCliSend(run.opts.bin, d.url, `${encodePlan(plan)} sent from the command line`, {
          waitS: opts.waitS ?? 2,
          timeoutMs: opts.processTimeoutMs ?? 30_000,
          signal: run.signal,
        });
        const kind = r.jobId !== null ? 'accepted' : r.unreachable ? 'unreachable' : 'failed';
        c[kind] = (c[kind] ?? 0) + 1;
        if (r.jobId !== null) opts.onAccepted?.(r.jobId, plan);
        else if (!r.unreachable && !run.signal.aborted)
          run.log(`cli: alter0 send exited ${r.code} without a job id: ${r.stderr.trim().slice(-300)}`);
      }
    },
    close() {
      return Promise.resolve();
    },
  };
}
