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

/**
 * What ranking reads of one candidate: its words, when it was last updated and whether it is closed. The worker
 * that ranks thousands of tasks streams these from the database one at a time, keeping only each one's counts of
 * the message's terms, so its memory does not grow with the text of every candidate.
 */
export interface RankText {
  id: string;
  title: string;
  summary: string;
  /** Contents of its last messages (any order: only the last `RANKING.recentMessages` are read, each cut). */
  recent: readonly string[];
  updatedAtMs: number;
  closed: boolean;
}

/** A candidate's score, and its position among the texts it was ranked from. */
export interface ScoredCandidate {
  id: string;
  score: number;
  index: number;
}

interface Doc {
  id: string;
  updatedAtMs: number;
  closed: boolean;
  tf: Map<string, number>;
  length: number;
}

/** Term counts for the query's terms only (all that BM25 reads), plus the document length. */
function docOf(t: RankText, query: ReadonlySet<string>): Doc {
  const tf = new Map<string, number>();
  let length = 0;
  const add = (tokens: readonly string[], weight: number): void => {
    length += tokens.length * weight;
    for (const tok of tokens) if (query.has(tok)) tf.set(tok, (tf.get(tok) ?? 0) + weight);
  };
  add(tokenize(t.title), RANKING.titleBoost);
  add(tokenize(t.summary), 1);
  for (const m of t.recent.slice(-RANKING.recentMessages)) add(tokenize(m.slice(0, RANKING.recentCharsEach)), 1);
  return { id: t.id, updatedAtMs: t.updatedAtMs, closed: t.closed, tf, length };
}

/**
 * Scores candidates by how likely `message` continues them and returns the best `limit`, best first:
 *   score = 0.65 · bm25(message, task) / max_task bm25  +  0.35 · 0.5^(age_hours / 24)
 * where the BM25 document is title (×2) + summary + the last 3 messages (400 chars each). A closed task is ranked
 * like an open one. Ties go to a task still open, then the more recently updated task, then the smaller id, so
 * the order is deterministic. `texts` is read once, in order; nothing of a text but its term counts is kept.
 */
export function scoreCandidates(
  message: string,
  texts: Iterable<RankText>,
  opts: { now: Date; limit: number },
): ScoredCandidate[] {
  if (opts.limit <= 0) return [];
  const querySet = new Set(tokenize(message));
  const docs: Doc[] = [];
  for (const t of texts) docs.push(docOf(t, querySet));
  const n = docs.length;
  if (n === 0) return [];
  const avgLen = docs.reduce((s, d) => s + d.length, 0) / n || 1;

  const raw = new Float64Array(n);
  for (const term of querySet) {
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
  const scored = docs.map((d, index) => {
    const similarity = max > 0 ? (raw[index] ?? 0) / max : 0;
    const ageHours = Math.max(0, nowMs - d.updatedAtMs) / 3_600_000;
    const recency = Number.isFinite(ageHours) ? 0.5 ** (ageHours / RANKING.recencyHalfLifeHours) : 0;
    return { d, index, score: RANKING.similarityWeight * similarity + RANKING.recencyWeight * recency };
  });
  scored.sort(
    (a, b) =>
      b.score - a.score ||
      Number(a.d.closed) - Number(b.d.closed) ||
      b.d.updatedAtMs - a.d.updatedAtMs ||
      (a.d.id < b.d.id ? -1 : a.d.id > b.d.id ? 1 : 0),
  );
  return scored.slice(0, opts.limit).map(({ d, index, score }) => ({ id: d.id, score, index }));
}

/** `scoreCandidates` over tasks already in memory: the best `limit` of them, best first, each with its score. */
export function rankCandidates(
  message: string,
  tasks: readonly CandidateTask[],
  opts: { now: Date; limit: number },
): RankedCandidate[] {
  const texts = tasks.map((t): RankText => ({
    id: t.id,
    title: t.title,
    summary: t.summary,
    recent: t.recent.map((m) => m.content),
    updatedAtMs: t.updatedAt.getTime(),
    closed: t.closed !== undefined,
  }));
  return scoreCandidates(message, texts, opts).flatMap(({ index, score }) => {
    const t = tasks[index];
    return t === undefined ? [] : [{ ...t, score }];
  });
}
