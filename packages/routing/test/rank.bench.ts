import { bench, describe } from 'vitest';
import type { CandidateTask } from '../src/rank.js';
import { rankCandidates } from '../src/rank.js';

const words =
  'deploy nginx postgres backup invoice garden kafka login oauth webpack cron budget recipe tax docker vacuum replica flaky test mobile css'.split(
    ' ',
  );
const now = new Date('2025-03-10T12:00:00Z');

function makeTasks(n: number): CandidateTask[] {
  let seed = 7;
  const pick = (): string => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return words[seed % words.length] ?? 'x';
  };
  const sentence = (len: number): string => Array.from({ length: len }, pick).join(' ');
  return Array.from({ length: n }, (_, i) => ({
    id: `t_${String(i).padStart(26, '0')}`,
    title: sentence(6),
    summary: sentence(80),
    updatedAt: new Date(now.getTime() - i * 600_000),
    recent: [
      { role: 'user' as const, content: sentence(40) },
      { role: 'assistant' as const, content: sentence(60) },
      { role: 'user' as const, content: sentence(20) },
    ],
  }));
}

const tasks3k = makeTasks(3000);
describe('rankCandidates', () => {
  bench('3000 open tasks, 8 candidates', () => {
    rankCandidates('the postgres replica backup fails after the nightly vacuum, can you check the cron job', tasks3k, {
      now,
      limit: 8,
    });
  });
});
