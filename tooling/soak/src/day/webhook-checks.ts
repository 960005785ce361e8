import type { ChannelsDb } from './channels-db.js';
import { announceable } from './channels-db.js';
import type { Finding } from './telegram-checks.js';

/** What the checks need of a receiver: its name and how often it answered 2xx for a job. */
export interface DeliveryLedger {
  readonly name: string;
  count(jobId: string): number;
}

export interface Undelivered {
  /** (job, receiver) pairs that had to be delivered. */
  due: number;
  missing: { job: string; receiver: string }[];
}

/**
 * Every job the daemon marked to be announced (nobody waited for it: background lane, POST /api/jobs, a sync
 * request answered 202, anything from Telegram) that ended must have reached every receiver at least once.
 */
export function undelivered(db: ChannelsDb, receivers: readonly DeliveryLedger[]): Undelivered {
  const missing: Undelivered['missing'] = [];
  let due = 0;
  for (const j of db.jobs) {
    if (j.notify !== 1 || !announceable(j)) continue;
    for (const r of receivers) {
      due++;
      if (r.count(j.id) === 0) missing.push({ job: j.id, receiver: r.name });
    }
  }
  return { due, missing };
}

/** Jobs that must be announced whatever the request said (background lane, a chat channel) and are not marked so. */
export function unmarked(db: ChannelsDb): { checked: number; findings: Finding[] } {
  const must = db.jobs.filter((j) => j.lane === 'background' || j.channel === 'telegram');
  const findings = must
    .filter((j) => j.notify !== 1)
    .map((j): Finding => ({
      kind: 'notification_lost',
      detail: `job ${j.id} (${j.lane} lane, channel ${j.channel}) is not marked to be announced (jobs.notify = 0): its end would reach no receiver`,
    }));
  return { checked: must.length, findings };
}

/** The findings for what was still missing at the end, naming a notice the outbox gave up on. */
export function missingFindings(db: ChannelsDb, u: Undelivered, waitS: number): Finding[] {
  const dead = new Map(db.dead.filter((d) => d.channel === 'webhook').map((d) => [`${d.job ?? ''}`, d]));
  const notified = new Map(db.jobs.map((j) => [j.id, j.notified === 1]));
  return u.missing.map(({ job, receiver }) => {
    const d = dead.get(job);
    const why = d
      ? `the outbox gave its notice up after ${d.attempts} attempts (${d.error ?? 'no error kept'})`
      : notified.get(job)
        ? 'its notice was queued but never answered 2xx'
        : 'it was never announced (jobs.notified_at is empty)';
    return {
      kind: 'notification_lost',
      detail: `job ${job} ended and was to be announced, but webhook receiver ${receiver} never got it within ${waitS}s after the drain: ${why}`,
    };
  });
}
