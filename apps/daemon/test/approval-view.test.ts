import { expect, it } from 'vitest';
import { Approval } from '@alter0/api';
import * as v from 'valibot';
import { approvalView } from '../src/views.js';

/**
 * Found by the day soak's clock jumps: an approval asked while the wall clock was 2 h ahead and denied after it came
 * back had a negative `waited_ms`, and every answer that listed it broke the contract (GET /api/approvals drifted).
 */
it('an approval decided after the clock stepped back waited 0 ms, not a negative time, and stays in the contract', () => {
  const created = Date.parse('2026-12-02T19:00:00Z');
  const view = approvalView({
    id: 'a_01m8vx13ct9gpbg1edph1127wy',
    jobId: 'j_01m8vx13ct9gpbg1edph1127wy',
    attempt: 1,
    taskId: null,
    agent: 'command',
    tool: 'Bash',
    inputJson: '{"command":"ls"}',
    state: 'denied',
    reason: 'no',
    decidedBy: 'api',
    always: false,
    createdAt: created,
    expiresAt: created + 20_000,
    decidedAt: created - 7_199_730,
  });
  expect(view.waited_ms).toBe(0);
  const parsed = v.safeParse(Approval, view);
  expect(parsed.issues?.map((i) => `${i.path?.map((p) => String(p.key)).join('.') ?? ''}: ${i.message}`) ?? []).toEqual(
    [],
  );
});
