import { describe, expect, it } from 'vitest';
import type { CandidateTask } from '../src/rank.js';
import { rankCandidates } from '../src/rank.js';
import { tokenize } from '../src/tokenize.js';

const now = new Date('2025-03-10T12:00:00Z');
const hoursAgo = (h: number): Date => new Date(now.getTime() - h * 3_600_000);

function task(id: string, title: string, updatedAt: Date, extra: Partial<CandidateTask> = {}): CandidateTask {
  return { id, title, summary: '', updatedAt, recent: [], ...extra };
}

describe('tokenize', () => {
  it('lowercases, folds accents, drops stop words and plural s', () => {
    expect(tokenize('The Café tests for parse_config in src/app.ts')).toEqual([
      'cafe',
      'test',
      'parse_config',
      'src',
      'app',
      'ts',
    ]);
  });
});

describe('rankCandidates', () => {
  it('orders purely by recency when nothing matches lexically', () => {
    const tasks = [task('a', 'alpha', hoursAgo(30)), task('b', 'beta', hoursAgo(1)), task('c', 'gamma', hoursAgo(5))];
    expect(rankCandidates('zzz qqq', tasks, { now, limit: 10 }).map((t) => t.id)).toEqual(['b', 'c', 'a']);
  });

  it('lets a strong lexical match beat a more recent unrelated task', () => {
    const tasks = [
      task('recent', 'Plan the garden beds', hoursAgo(0.1)),
      task('match', 'Postgres replication lag', hoursAgo(72), {
        summary: 'replica falls behind during nightly vacuum',
      }),
    ];
    const ranked = rankCandidates('the postgres replica is lagging again after vacuum', tasks, { now, limit: 10 });
    expect(ranked.map((t) => t.id)).toEqual(['match', 'recent']);
    expect(ranked[0]?.score).toBeGreaterThan(ranked[1]?.score ?? 1);
  });

  it('prefers the more recent of two equally similar tasks', () => {
    const tasks = [task('old', 'nginx config reload', hoursAgo(48)), task('new', 'nginx config reload', hoursAgo(2))];
    expect(rankCandidates('nginx reload fails', tasks, { now, limit: 10 }).map((t) => t.id)).toEqual(['new', 'old']);
  });

  it('uses recent lines and summary, not only the title', () => {
    const tasks = [
      task('x', 'Misc', hoursAgo(3), {
        recent: [{ role: 'assistant', content: 'I bumped the webpack version to 5.90' }],
      }),
      task('y', 'Misc', hoursAgo(3), { summary: 'grocery list for the weekend' }),
    ];
    expect(rankCandidates('webpack still warns', tasks, { now, limit: 1 }).map((t) => t.id)).toEqual(['x']);
  });

  it('respects the limit and keeps the task fields', () => {
    const tasks = Array.from({ length: 20 }, (_, i) => task(`t${i}`, `task ${i}`, hoursAgo(i)));
    const ranked = rankCandidates('task', tasks, { now, limit: 5 });
    expect(ranked).toHaveLength(5);
    expect(ranked[0]).toMatchObject({ id: 't0', title: 'task 0' });
    expect(rankCandidates('task', tasks, { now, limit: 0 })).toEqual([]);
    expect(rankCandidates('task', [], { now, limit: 5 })).toEqual([]);
  });

  it('scores stay within 0..1 and future or invalid dates do not break the order', () => {
    const tasks = [
      task('future', 'release notes', new Date(now.getTime() + 3_600_000)),
      task('bad', 'release notes', new Date(Number.NaN)),
    ];
    const ranked = rankCandidates('release notes', tasks, { now, limit: 5 });
    expect(ranked.map((t) => t.id)).toEqual(['future', 'bad']);
    for (const r of ranked) expect(r.score).toBeGreaterThanOrEqual(0);
    for (const r of ranked) expect(r.score).toBeLessThanOrEqual(1);
  });

  it('is deterministic on ties (id order)', () => {
    const at = hoursAgo(1);
    const tasks = [task('b', 'same', at), task('a', 'same', at)];
    expect(rankCandidates('same', tasks, { now, limit: 5 }).map((t) => t.id)).toEqual(['a', 'b']);
  });
});

describe('rankCandidates with recently closed tasks', () => {
  const closed = { at: hoursAgo(1), reason: 'fixed' };

  it('ranks a closed task like an open one: a strong match wins whatever its state', () => {
    const tasks = [
      task('open', 'Plan the garden beds', hoursAgo(0.1)),
      task('closed', 'Postgres replication lag', hoursAgo(30), { closed }),
    ];
    const ranked = rankCandidates('postgres replication lag is back', tasks, { now, limit: 10 });
    expect(ranked.map((t) => t.id)).toEqual(['closed', 'open']);
    expect(ranked[0]?.closed).toEqual(closed);
  });

  it('puts a task still open first on ties, before a closed one with the smaller id', () => {
    const at = hoursAgo(1);
    expect(
      rankCandidates('same', [task('a', 'same', at, { closed }), task('b', 'same', at)], { now, limit: 5 }).map(
        (t) => t.id,
      ),
    ).toEqual(['b', 'a']);
  });

  it('applies the limit to open and closed tasks together', () => {
    const tasks = [
      task('o1', 'one', hoursAgo(1)),
      task('c1', 'two', hoursAgo(2), { closed }),
      task('o2', 'three', hoursAgo(3)),
    ];
    expect(rankCandidates('zzz', tasks, { now, limit: 2 }).map((t) => t.id)).toEqual(['o1', 'c1']);
  });
});
