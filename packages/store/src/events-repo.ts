import { and, desc, eq, gte } from 'drizzle-orm';
import type { SQL } from 'drizzle-orm';
import type { EventLevel } from '@alter0/core';
import { newId } from '@alter0/core';
import type { Drizzle } from './db.js';
import { events, maintenanceRuns } from './schema.js';
import type { EventRow, MaintenanceRunRow } from './schema.js';

/** The system's own log of failures, recoveries, restarts and maintenance (feeds status and diagnose). */
export class EventsRepo {
  constructor(private readonly db: Drizzle) {}

  add(e: {
    component: string;
    level: EventLevel;
    kind: string;
    message: string;
    details?: unknown;
    now: number;
  }): EventRow {
    const row: EventRow = {
      id: newId('e'),
      component: e.component,
      level: e.level,
      kind: e.kind,
      message: e.message,
      detailsJson: e.details === undefined ? null : JSON.stringify(e.details),
      createdAt: e.now,
    };
    this.db.insert(events).values(row).run();
    return row;
  }

  recent(filter: { component?: string; since?: number; limit?: number } = {}): EventRow[] {
    const conds: SQL[] = [];
    if (filter.component) conds.push(eq(events.component, filter.component));
    if (filter.since !== undefined) conds.push(gte(events.createdAt, filter.since));
    return this.db
      .select()
      .from(events)
      .where(conds.length ? and(...conds) : undefined)
      .orderBy(desc(events.id))
      .limit(Math.min(Math.max(filter.limit ?? 100, 1), 5000))
      .all();
  }

  maintenance(): MaintenanceRunRow[] {
    return this.db.select().from(maintenanceRuns).orderBy(maintenanceRuns.job).all();
  }

  maintenanceStarted(job: string, now: number): void {
    this.db
      .insert(maintenanceRuns)
      .values({ job, lastStartAt: now, consecutiveFailures: 0 })
      .onConflictDoUpdate({ target: maintenanceRuns.job, set: { lastStartAt: now } })
      .run();
  }

  maintenanceFinished(job: string, p: { ok: boolean; error?: string; now: number; nextRunAt: number | null }): void {
    const prev = this.db.select().from(maintenanceRuns).where(eq(maintenanceRuns.job, job)).get();
    const failures = p.ok ? 0 : (prev?.consecutiveFailures ?? 0) + 1;
    const patch = p.ok
      ? { lastSuccessAt: p.now, consecutiveFailures: 0, nextRunAt: p.nextRunAt }
      : { lastError: p.error ?? 'failed', lastErrorAt: p.now, consecutiveFailures: failures, nextRunAt: p.nextRunAt };
    this.db
      .insert(maintenanceRuns)
      .values({ job, ...patch })
      .onConflictDoUpdate({ target: maintenanceRuns.job, set: patch })
      .run();
  }
}
