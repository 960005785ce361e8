// Reads the daemon's database from a separate process (so a long integrity_check never stalls the harness,
// and a native crash never takes it down) and prints one JSON line: DbCheck (see db-check.ts).
//   node db-check-main.js <alter0.db> [--integrity]
import Database from 'better-sqlite3';

const [file, flag] = process.argv.slice(2);
if (file === undefined) {
  process.stderr.write('usage: db-check-main.js <alter0.db> [--integrity]\n');
  process.exit(2);
}
const db = new Database(file, { readonly: true, fileMustExist: true });
try {
  db.pragma('busy_timeout = 10000');
  const integrity = flag === '--integrity' ? String(db.pragma('integrity_check', { simple: true })) : null;
  const running = db.prepare(`SELECT id, attempt FROM jobs WHERE state = 'running' ORDER BY id`).all() as {
    id: string;
    attempt: number;
  }[];
  const byState = Object.fromEntries(
    (db.prepare('SELECT state, count(*) AS n FROM jobs GROUP BY state').all() as { state: string; n: number }[]).map(
      (r) => [r.state, r.n],
    ),
  );
  process.stdout.write(`${JSON.stringify({ integrity, running, by_state: byState })}\n`);
} finally {
  db.close();
}
