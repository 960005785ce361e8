import { and, desc, eq } from 'drizzle-orm';
import type { SQL } from 'drizzle-orm';
import type { ErrorClass, RouteFallback } from '@alter0/core';
import { newId } from '@alter0/core';
import type { Drizzle } from './db.js';
import { closeDecisions, routeDecisions } from './schema.js';
import type { CloseDecisionRow, RouteDecisionRow } from './schema.js';

export interface RouteDecisionInput {
  jobId: string;
  messageId: string;
  taskId: string | null;
  decision: string;
  confidence: number | null;
  reason: string;
  fallback: RouteFallback | null;
  rejectCode: string | null;
  candidates: { taskId: string; score: number }[];
  inputSummary: string;
  templateId: string | null;
  templateVersion: string | null;
  templateHash: string | null;
  promptChars: number;
  modelCalled: boolean;
  latencyMs: number;
  rawOutput: string | null;
  errorClass: ErrorClass | null;
  now: number;
}

export class DecisionsRepo {
  constructor(private readonly db: Drizzle) {}

  addRoute(d: RouteDecisionInput): RouteDecisionRow {
    const row: RouteDecisionRow = {
      id: newId('d'),
      jobId: d.jobId,
      messageId: d.messageId,
      taskId: d.taskId,
      decision: d.decision,
      confidence: d.confidence,
      reason: d.reason,
      fallback: d.fallback,
      rejectCode: d.rejectCode,
      candidatesJson: JSON.stringify(d.candidates),
      inputSummary: d.inputSummary,
      templateId: d.templateId,
      templateVersion: d.templateVersion,
      templateHash: d.templateHash,
      promptChars: d.promptChars,
      modelCalled: d.modelCalled,
      latencyMs: Math.round(d.latencyMs),
      rawOutput: d.rawOutput,
      errorClass: d.errorClass,
      createdAt: d.now,
    };
    this.db.insert(routeDecisions).values(row).run();
    return row;
  }

  routeForTask(taskId: string): RouteDecisionRow[] {
    return this.db
      .select()
      .from(routeDecisions)
      .where(eq(routeDecisions.taskId, taskId))
      .orderBy(routeDecisions.createdAt, routeDecisions.id)
      .all();
  }

  /** The latest routing decision of a job (a retried or re-queued job may have several). */
  routeForJob(jobId: string): RouteDecisionRow | undefined {
    return this.db
      .select()
      .from(routeDecisions)
      .where(eq(routeDecisions.jobId, jobId))
      .orderBy(desc(routeDecisions.id))
      .limit(1)
      .get();
  }

  list(filter: { kind: 'route'; taskId?: string; limit?: number }): RouteDecisionRow[];
  list(filter: { kind: 'close'; taskId?: string; limit?: number }): CloseDecisionRow[];
  list(filter: { kind: 'route' | 'close'; taskId?: string; limit?: number }): RouteDecisionRow[] | CloseDecisionRow[] {
    const limit = Math.min(Math.max(filter.limit ?? 50, 1), 1000);
    if (filter.kind === 'route') {
      const conds: SQL[] = filter.taskId ? [eq(routeDecisions.taskId, filter.taskId)] : [];
      return this.db
        .select()
        .from(routeDecisions)
        .where(conds.length ? and(...conds) : undefined)
        .orderBy(desc(routeDecisions.id))
        .limit(limit)
        .all();
    }
    const conds: SQL[] = filter.taskId ? [eq(closeDecisions.taskId, filter.taskId)] : [];
    return this.db
      .select()
      .from(closeDecisions)
      .where(conds.length ? and(...conds) : undefined)
      .orderBy(desc(closeDecisions.id))
      .limit(limit)
      .all();
  }
}
