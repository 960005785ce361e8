// Reads the daemon's database from a separate process (so a long integrity_check never stalls the harness,
// and a native crash never takes it down) and prints one JSON line: DbCheck (see db-check.ts).
//   node db-check-main.js <alter0.db> [--integrity] [--verify] [--final]
import Database from 'better-sqlite3';
import { verifyFailures } from './verify-failures.js';

const [file, ...flags] = process.argv.slice(2);
if (file === undefined) {
  process.stderr.write('usage: db-check-main.js <alter0.db> [--integrity] [--verify] [--final]\n');
  process.exit(2);
}

/** Jobs that break "never both canceled and answered": canceled with a stored reply. */
function canceledAndAnswered(db: Database.Database): string[] {
  return (
    db
      .prepare(`SELECT id FROM jobs WHERE state = 'canceled' AND reply_message_id IS NOT NULL ORDER BY id LIMIT 50`)
      .all() as { id: string }[]
  ).map((r) => r.id);
}

/** Per job, what the daemon recorded of its timing (for latency per hour of the day). */
function timings(db: Database.Database): [number, number | null, number | null, string][] {
  return (
    db.prepare('SELECT created_at AS c, started_at AS s, finished_at AS f, state FROM jobs').all() as {
      c: number;
      s: number | null;
      f: number | null;
      state: string;
    }[]
  ).map((r) => [r.c, r.s, r.f, r.state]);
}

const db = new Database(file, { readonly: true, fileMustExist: true });
try {
  db.pragma('busy_timeout = 10000');
  const integrity =
    flags.includes('--integrity') && !flags.includes('--verify')
      ? String(db.pragma('integrity_check', { simple: true }))
      : null;
  const running = db.prepare(`SELECT id, attempt FROM jobs WHERE state = 'running' ORDER BY id`).all() as {
    id: string;
    attempt: number;
  }[];
  const byState = Object.fromEntries(
    (db.prepare('SELECT state, count(*) AS n FROM jobs GROUP BY state').all() as { state: string; n: number }[]).map(
      (r) => [r.state, r.n],
    ),
  );
  const final = flags.includes('--final');
  const out = {
    integrity,
    running,
    by_state: byState,
    ...(flags.includes('--verify') ? { verify: await verifyFailures(file) } : {}),
    ...(final ? { canceled_and_answered: canceledAndAnswered(db), timings: timings(db) } : {}),
  };
  if (out.verify !== undefined)
    out.integrity = out.verify.some((v) => v.startsWith('integrity_check')) ? 'damaged' : 'ok';
  process.stdout.write(`${JSON.stringify(out)}\n`);
} finally {
  db.close();
}
