// Reads what the channel checks need from the daemon's database, in a process of its own (a slow read never stalls
// the harness), read-only (WAL: it never blocks the daemon), and prints one JSON line: ChannelsDb (channels-db.ts).
//   node channels-db-main.js <alter0.db> [--telegram]     (--telegram: only Telegram's jobs and references)
import Database from 'better-sqlite3';

const [file, flag] = process.argv.slice(2);
if (file === undefined) {
  process.stderr.write('usage: channels-db-main.js <alter0.db> [--telegram]\n');
  process.exit(2);
}
const telegramOnly = flag === '--telegram';
const db = new Database(file, { readonly: true, fileMustExist: true });
try {
  db.pragma('busy_timeout = 10000');
  // One read transaction: the references, jobs and notices are one consistent snapshot.
  const read = db.transaction(() => {
    const refs = db
      .prepare(`SELECT chat_id AS chat, message_id AS msg, job_id AS job FROM channel_refs WHERE channel = 'telegram'`)
      .all();
    const where = telegramOnly
      ? `j.channel_id = 'telegram'`
      : `j.notify = 1 OR j.channel_id = 'telegram' OR j.lane = 'background'`;
    const jobs = db
      .prepare(
        `SELECT j.id, j.state, j.channel_id AS channel, j.session_id AS session, j.lane, j.retry_of AS retryOf,
                j.notify = 1 AS notify, j.notified_at IS NOT NULL AS notified, j.reply_message_id IS NOT NULL AS replied,
                CASE WHEN j.channel_id = 'telegram' THEN substr(m.content, 1, 160) END AS head
           FROM jobs j LEFT JOIN messages m ON m.id = j.message_id WHERE ${where}`,
      )
      .all();
    const dead = telegramOnly
      ? []
      : db
          .prepare(
            `SELECT job_id AS job, channel, target, attempts, last_error AS error FROM outbox WHERE state = 'dead' LIMIT 200`,
          )
          .all();
    return { refs, jobs, dead };
  });
  process.stdout.write(`${JSON.stringify(read())}\n`);
} finally {
  db.close();
}
