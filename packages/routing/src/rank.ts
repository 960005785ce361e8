import type { MessageRole } from '@alter0/core';
import { tokenize } from './tokenize.js';

export interface CandidateTask {
  id: string;
  title: string;
  summary: string;
  updatedAt: Date;
  /** The last few messages of the task, oldest first. */
  recent: { role: MessageRole; content: string }[];
  /**
   * Set when the task is closed (a recently closed task offered with the open ones): when and why it closed.
   * Choosing it reopens it.
   */
  closed?: { at: Date; reason: string };
}

export type RankedCandidate = CandidateTask & { score: number };

/** Weights and constants of the ranking formula (README.md documents it). */
export const RANKING = {
  similarityWeight: 0.65,
  recencyWeight: 0.35,
  recencyHalfLifeHours: 24,
  titleBoost: 2,
  recentMessages: 3,
  recentCharsEach: 400,
  bm25K1: 1.2,
  bm25B: 0.75,
} as const;

interface Doc {
  tf: Map<string, number>;
  length: number;
}

/** Term counts for the query's terms only (all that BM25 reads), plus the document length. */
function docOf(t: CandidateTask, query: ReadonlySet<string>): Doc {
  const tf = new Map<string, number>();
  let length = 0;
  const add = (tokens: readonly string[], weight: number): void => {
    length += tokens.length * weight;
    for (const tok of tokens) if (query.has(tok)) tf.set(tok, (tf.get(tok) ?? 0) + weight);
  };
  add(tokenize(t.title), RANKING.titleBoost);
  add(tokenize(t.summary), 1);
  for (const m of t.recent.slice(-RANKING.recentMessages))
    add(tokenize(m.content.slice(0, RANKING.recentCharsEach)), 1);
  return { tf, length };
}

/**
 * Orders candidate tasks (open, and recently closed ones) by how likely `message` continues them, best first, at
 * most `limit`:
 *   score = 0.65 · bm25(message, task) / max_task bm25  +  0.35 · 0.5^(age_hours / 24)
 * where the BM25 document is title (×2) + summary + the last 3 messages (400 chars each). A closed task is ranked
 * like an open one. Ties go to a task still open, then the more recently updated task, then the smaller id, so
 * the order is deterministic.
 */
export function rankCandidates(
  message: string,
  tasks: readonly CandidateTask[],
  opts: { now: Date; limit: number },
): RankedCandidate[] {
  if (tasks.length === 0 || opts.limit <= 0) return [];
  const querySet = new Set(tokenize(message));
  const query = [...querySet];
  const docs = tasks.map((t) => docOf(t, querySet));
  const n = docs.length;
  const avgLen = docs.reduce((s, d) => s + d.length, 0) / n || 1;

  const raw = new Float64Array(n);
  for (const term of query) {
    let df = 0;
    for (const d of docs) if (d.tf.has(term)) df++;
    if (df === 0) continue;
    const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
    for (let i = 0; i < n; i++) {
      const d = docs[i];
      const f = d?.tf.get(term);
      if (d === undefined || f === undefined) continue;
      const norm = RANKING.bm25K1 * (1 - RANKING.bm25B + (RANKING.bm25B * d.length) / avgLen);
      raw[i] = (raw[i] ?? 0) + (idf * f * (RANKING.bm25K1 + 1)) / (f + norm);
    }
  }
  let max = 0;
  for (const v of raw) if (v > max) max = v;

  const nowMs = opts.now.getTime();
  const ranked = tasks.map((t, i): RankedCandidate => {
    const similarity = max > 0 ? (raw[i] ?? 0) / max : 0;
    const ageHours = Math.max(0, nowMs - t.updatedAt.getTime()) / 3_600_000;
    const recency = Number.isFinite(ageHours) ? 0.5 ** (ageHours / RANKING.recencyHalfLifeHours) : 0;
    return { ...t, score: RANKING.similarityWeight * similarity + RANKING.recencyWeight * recency };
  });
  ranked.sort(
    (a, b) =>
      b.score - a.score ||
      Number(a.closed !== undefined) - Number(b.closed !== undefined) ||
      b.updatedAt.getTime() - a.updatedAt.getTime() ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  return ranked.slice(0, opts.limit);
}
