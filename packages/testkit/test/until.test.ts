import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { UntilTimeoutError, until, untilText } from '../src/until.js';

describe('until', () => {
  it('resolves with the first truthy value', async () => {
    let n = 0;
    await expect(until(() => (++n >= 3 ? `after ${n}` : null), { intervalMs: 1 })).resolves.toBe('after 3');
  });

  it('times out naming what it waited for, with the detail', async () => {
    const err = await until(() => false, {
      timeoutMs: 30,
      intervalMs: 5,
      what: 'the moon',
      detail: () => 'log tail',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UntilTimeoutError);
    expect(String(err)).toMatch(/timed out after 30 ms waiting for the moon; log tail/);
  });

  it('checks again as soon as the wake event fires, not only on the interval', async () => {
    const ev = new EventEmitter();
    let text = '';
    const t0 = performance.now();
    setTimeout(() => {
      text = 'ready';
      ev.emit('data');
    }, 20);
    const wake = (fn: () => void): (() => void) => {
      ev.on('data', fn);
      return () => ev.off('data', fn);
    };
    await untilText(() => text, 'ready', { intervalMs: 10_000, timeoutMs: 20_000, wake });
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(ev.listenerCount('data')).toBe(0);
  });

  it('stops when its signal aborts', async () => {
    await expect(until(() => false, { signal: AbortSignal.timeout(20), timeoutMs: 10_000 })).rejects.toThrow();
  });
});
