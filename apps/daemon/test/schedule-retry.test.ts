import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, expect, it, vi } from 'vitest';
import { createMetrics } from '@alter0/obs';
import type { Logger } from '@alter0/obs';
import { Store } from '@alter0/store';
import { Bus } from '../src/bus.js';
import { ScheduleService } from '../src/schedules/service.js';

let dir = '';
let store: Store | null = null;
let service: ScheduleService | null = null;
afterEach(() => {
  service?.stop();
  store?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A logger that keeps its error lines. */
function errorsLogger(lines: string[]): Logger {
  const self: Logger = {
    debug: () => {},
    info: () => {},
    warn: () => {},
    error: (msg) => void lines.push(msg),
    child: () => self,
    isLevelEnabled: () => true,
    close: () => Promise.resolve(),
  };
  return self;
}

/**
 * Found by the day soak: while the disk was full, a due slot could not be written and the scheduler looked again at
 * once — every few milliseconds, one error line each (249 in a 4-minute run), the event loop spinning. A failing look
 * now backs off (1 s, doubling, at most the 30 s between looks).
 */
it('a look that fails on a full disk is retried after a back-off, not at once', async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alter0-sched-retry-'));
  store = Store.open({ file: path.join(dir, 'alter0.db') });
  let offset = 0;
  const errors: string[] = [];
  service = new ScheduleService({
    ...{
      store,
      bus: new Bus(),
      logger: errorsLogger(errors),
      metrics: createMetrics(),
      now: () => Date.now() + offset,
    },
    ...{ missed: 'once' as const, maxFailures: 5, onAccepted: () => undefined },
    defaults: { timeoutS: 30, maxAttempts: 2, queueDepth: 100 },
  });
  service.add({ every: '10s', text: 'hello', taskId: null, lane: 'interactive', userId: 'owner' });
  // The slot is due (an hour later), and the store refuses the look as it does on a full disk.
  offset = 3_600_000;
  const due = vi.spyOn(store.schedules, 'due').mockImplementation(() => {
    throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
  });
  service.start();
  await sleep(1500);
  expect(errors.length).toBeGreaterThanOrEqual(1);
  expect(errors.length).toBeLessThanOrEqual(3);
  // Space again: the next look fires the slot and the failures stop.
  due.mockRestore();
  await sleep(2500);
  const before = errors.length;
  await sleep(1000);
  expect(errors.length).toBe(before);
  expect(store.schedules.list()[0]?.lastJobId).toMatch(/^j_/);
});
