import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { nullLogger } from '@alter0/obs';
import { Store } from '@alter0/store';
import { Approvals } from '../src/approvals/service.js';
import { Bus } from '../src/bus.js';

/**
 * Found by the day soak's clock jumps: approvals.timeout ran on the wall clock (the stored expires_at), so an
 * approval asked while the clock was 2 h ahead waited 2 h more once it came back (the soak saw it pending past
 * timeout + 10 s), and one asked just before a jump forward expired at once. It runs on the monotonic clock now.
 */
const TIMEOUT_MS = 300;
const HOUR = 3_600_000;

let dir: string;
let store: Store;
let approvals: Approvals | undefined;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alter0-approval-clock-'));
  store = Store.open({ file: path.join(dir, 'alter0.db') });
});

afterEach(() => {
  approvals?.stop();
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The approvals service reading the wall clock from `wall()`, started as the daemon starts it. */
function service(wall: () => number): Approvals {
  approvals = new Approvals({
    ...{ store, bus: new Bus(), logger: nullLogger(), now: wall, redact: (t: string) => t },
    ...{ mode: 'ask', allow: [], timeoutMs: TIMEOUT_MS, url: () => 'http://127.0.0.1:1' },
  });
  approvals.start();
  return approvals;
}

/** A pending approval of a fresh job. */
function raise(s: Approvals, wall: () => number): { id: string; state: () => string } {
  const { job } = store.jobs.accept({
    ...{ content: 'deploy', channelId: 'test', userId: 'owner', sessionId: null, taskId: null },
    ...{ lane: 'interactive', maxAttempts: 1, timeoutS: 60, now: wall() },
  });
  const a = s.raise({ jobId: job.id, attempt: 1, taskId: null, agent: 'command' }, 'Bash', { command: 'make deploy' });
  return { id: a.id, state: () => store.approvals.mustGet(a.id).state };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

it('an approval asked while the clock was 2 h ahead still expires after approvals.timeout once it steps back', async () => {
  let offset = 2 * HOUR;
  const wall = (): number => Date.now() + offset;
  const s = service(wall);
  const a = raise(s, wall);
  offset = 0;
  // Another question after the step: the expiry looks again at what is due.
  raise(s, wall);
  await sleep(TIMEOUT_MS + 700);
  expect(a.state()).toBe('expired');
  expect(store.approvals.mustGet(a.id).decidedBy).toBe('timeout');
});

it('an approval asked just before the clock jumps 2 h ahead is not expired by the jump', async () => {
  let offset = 0;
  const wall = (): number => Date.now() + offset;
  const s = service(wall);
  const a = raise(s, wall);
  offset = 2 * HOUR;
  const b = raise(s, wall);
  await sleep(TIMEOUT_MS / 3);
  expect([a.state(), b.state()]).toEqual(['pending', 'pending']);
  await sleep(TIMEOUT_MS + 700);
  expect([a.state(), b.state()]).toEqual(['expired', 'expired']);
});
