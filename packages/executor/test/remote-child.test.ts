import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { RemoteChild } from '../src/remote-child.js';

describe('RemoteChild', () => {
  it("a child that exits at once: an exit delivered in the same turn as 'spawned' still reaches a listener added after the spawn", async () => {
    const child = new RemoteChild(
      1,
      (_msg, done) => done(),
      () => undefined,
    );
    // As runProcess does: wait for the spawn, then listen for the exit.
    const heard = (async () => {
      await new Promise<void>((resolve) => child.once('spawn', () => resolve()));
      return new Promise<number | null>((resolve) => child.once('exit', (code: number | null) => resolve(code)));
    })();
    // The helper's messages for `sh -c no-such-tool` arrive in one batch.
    child.deliver({ t: 'spawned', id: 1, pid: 4242 });
    child.deliver({ t: 'eof', id: 1, fd: 1 });
    child.deliver({ t: 'eof', id: 1, fd: 2 });
    child.deliver({ t: 'exit', id: 1, code: 127, signal: null });
    const code = await Promise.race([heard, delay(2000).then(() => 'never heard' as const)]);
    expect(code).toBe(127);
  });
});
