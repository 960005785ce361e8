import { fileURLToPath } from 'node:url';
import Tinypool from 'tinypool';
import type { Store } from '@alter0/store';
import type { CandidateTask } from '@alter0/routing';
import type { RankTask, RankedCandidateWire } from './candidates-worker.js';

const WORKER = fileURLToPath(new URL('../dist/candidates-worker.js', import.meta.url));

/**
 * The router's candidate pool. With few open tasks it is read inline (a few small queries); past
 * `inlineMax` the loading and the local ranking move to a worker thread, which hands back only the best
 * `limit` candidates (the router ranks those again among themselves).
 */
export class CandidateSource {
  private pool: Tinypool | null = null;

  constructor(
    private readonly store: Store,
    private readonly opts: { limit: number; perTask: number; inlineMax: number; now: () => number },
  ) {}

  async load(message: string, signal: AbortSignal): Promise<CandidateTask[]> {
    if (this.store.tasks.countByState().open <= this.opts.inlineMax) return this.inline();
    this.pool ??= new Tinypool({ filename: WORKER, minThreads: 0, maxThreads: 1, idleTimeout: 60_000 });
    const task: RankTask = {
      dbFile: this.store.file,
      message,
      nowMs: this.opts.now(),
      limit: this.opts.limit,
      perTask: this.opts.perTask,
    };
    const ranked = (await this.pool.run(task, { signal })) as RankedCandidateWire[];
    return ranked.map((c) => ({
      id: c.id,
      title: c.title,
      summary: c.summary,
      updatedAt: new Date(c.updatedAtMs),
      recent: c.recent,
    }));
  }

  private inline(): CandidateTask[] {
    const open = this.store.tasks.open();
    const recent = this.store.tasks.recentMessages(
      open.map((t) => t.id),
      this.opts.perTask,
    );
    return open.map((t) => ({
      id: t.id,
      title: t.title,
      summary: t.summary,
      updatedAt: new Date(t.updatedAt),
      recent: (recent.get(t.id) ?? []).map((m) => ({ role: m.role, content: m.content })),
    }));
  }

  async close(): Promise<void> {
    await this.pool?.destroy();
    this.pool = null;
  }
}
