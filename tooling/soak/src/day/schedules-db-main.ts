// Reads the schedules, their firings, the schedule channel's jobs and the scheduler's events from the daemon's
// database in a process of its own (read-only; a long read never stalls the harness) and prints one JSON line:
// ScheduleObservation (schedules-judge.ts).
//   node schedules-db-main.js <alter0.db>
import Database from 'better-sqlite3';

const [file] = process.argv.slice(2);
if (file === undefined) {
  process.stderr.write('usage: schedules-db-main.js <alter0.db>\n');
  process.exit(2);
}
const db = new Database(file, { readonly: true, fileMustExist: true });
try {
  db.pragma('busy_timeout = 10000');
  const schedules = db
    .prepare(
      'SELECT id, kind, expr, state, paused_reason, next_run_at, created_at FROM schedules ORDER BY created_at, id',
    )
    .all();
  const runs = db
    .prepare(
      `SELECT r.id, r.schedule_id, r.slot_at, r.kind, r.job_id, (j.id IS NOT NULL) AS job_found
       FROM schedule_runs r LEFT JOIN jobs j ON j.id = r.job_id ORDER BY r.schedule_id, r.slot_at, r.id`,
    )
    .all();
  const jobs = db.prepare(`SELECT id, session_id, retry_of FROM jobs WHERE channel_id = 'schedule' ORDER BY id`).all();
  const events = db
    .prepare(
      `SELECT kind, details_json, created_at FROM events
       WHERE kind IN ('schedule_missed', 'schedule_refused', 'schedule_paused') ORDER BY created_at, id`,
    )
    .all() as { kind: string; details_json: string | null; created_at: number }[];
  const ev = events.map((e) => {
    let d: Record<string, unknown> = {};
    try {
      d = JSON.parse(e.details_json ?? '{}') as Record<string, unknown>;
    } catch {
      d = {};
    }
    const missed = typeof d.missed === 'number' ? d.missed : 0;
    return {
      kind: e.kind,
      schedule_id: typeof d.schedule_id === 'string' ? d.schedule_id : '',
      missed,
      created_at: e.created_at,
    };
  });
  process.stdout.write(`${JSON.stringify({ schedules, runs, jobs, events: ev })}\n`);
} finally {
  db.close();
}
