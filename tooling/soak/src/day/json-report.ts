import type { Rendered } from '../report.js';
import type { SoakResult } from '../result.js';
import { dayHours } from './hours.js';

/** Which build ran: the commit, and whether the tree had changes not in it. */
export interface Build {
  commit: string;
  dirty: boolean;
}

/**
 * The report as JSON, for docs/soak-results/: at its top level the figures a reader asks first (commit,
 * started_at, duration_s, kills, accepted, lost, duplicates, orphans, violations), then every check, the hostile
 * moments, each feature's counters and the day hour by hour.
 */
export function jsonReport(r: SoakResult, rendered: Rendered, build: Build): Record<string, unknown> {
  const byKind = rendered.summary.violations.by_kind;
  const restarts = (cause: string): number => r.restarts.filter((x) => x.cause === cause).length;
  return {
    commit: build.commit,
    dirty: build.dirty,
    started_at: new Date(r.startedAt).toISOString(),
    duration_s: Math.round(r.options.durationMs / 1000),
    kills: restarts('kill'),
    accepted: r.accepted,
    lost: byKind.lost_message + byKind.telegram_message_lost + byKind.notification_lost,
    duplicates: byKind.reexecuted + byKind.schedule_duplicate,
    orphans: byKind.orphan_process,
    violations: rendered.violations.length,
    passed: rendered.passed,
    profile: r.options.profile,
    command: `alter0 soak ${process.argv.slice(2).join(' ')}`,
    restarts: {
      total: r.restarts.length,
      kill: restarts('kill'),
      watchdog: restarts('watchdog'),
      exit: restarts('exit'),
      db_checks_merged: r.dbChecksMerged,
      failed_starts: r.failedStarts,
      polls_unanswered: r.pollsUnanswered,
    },
    skipped: r.skipped,
    checks: r.checks,
    violations_by_kind: byKind,
    moments: r.moments.map((m) => ({
      ...m,
      startedAt: new Date(m.startedAt).toISOString(),
      endedAt: new Date(m.endedAt).toISOString(),
    })),
    features: r.features,
    hours: dayHours(r),
    summary: rendered.summary,
  };
}
