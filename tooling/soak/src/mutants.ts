import type { ViolationKind } from './result.js';

/**
 * A deliberately broken build of the daemon (issue 18): a textual patch of a copy of apps/cli/dist/serve.bundle.mjs.
 * The day soak run against it must report the violation kind it targets, or that check of the soak is shown
 * unable to fail. `find` must match the bundle exactly once: a refactor that moves the code makes the list fail
 * loudly, naming the mutant, instead of silently testing nothing.
 */
export interface Mutant {
  name: string;
  targets: ViolationKind;
  /** The bug it plants, in the daemon's terms. */
  why: string;
  find: string | RegExp;
  /** `$HIT` marks the mutated path: it records (once per process) that the broken code actually ran. */
  replace: string;
  /** Further patches of the same build, each also matched exactly once (a bug whose effect two safeguards hide). */
  also?: readonly MutantPatch[];
  /** Extra soak flags (a control is run with the same flags). */
  flags?: string[];
}

export type MutantPatch = Pick<Mutant, 'find' | 'replace'>;

/** Replaced in `replace` by a call that records the first time each process runs the mutated code. */
export const HIT = '$HIT';

/** The daemon's reaping at start of the agent process groups the killed process left (two mutants disable it). */
const REAP_AT_START = /const reaped = reapOrphanGroups\(groupsDir, \{[^\n]*\}\);/;

/** The end of the main store's opening, schema checked (two mutants do harm there, once per daemon start). */
const AFTER_SCHEMA_CHECK = 'const after = schemaState(sqlite, folder);';

/**
 * For a mutant only a long stretch without moments shows (an approval never expired, a schedule that stops or
 * fires a slot again): the same flags for each, so they share one control.
 */
const LONG_CALM_NO_MOMENTS = ['--calm', '0.6', '--moments', 'none'];

/**
 * For a mutant only a hanging agent shows: a quarter of messages hang, and a longer calm for lifetimes that see one.
 * The same flags for each such mutant, so they share one control.
 */
const MANY_HANGS = [
  '--faults',
  'slow=0.08,hang=0.25,rate_limited=0.07,unavailable=0.07,auth=0.05,malformed_route=0.05,malformed_close=0.05',
  '--calm',
  '0.6',
];

export const MUTANTS: readonly Mutant[] = [
  {
    name: 'recovery-deletes-jobs',
    targets: 'lost_message',
    why: 'startup recovery deletes the jobs it re-queues: a job accepted (2xx) and running at a kill -9 is gone after the restart',
    find: 'report.requeued.push(j2.id);',
    replace: '$HIT; this.db.delete(jobs).where(eq(jobs.id, j2.id)).run(); report.requeued.push(j2.id);',
  },
  {
    name: 'recovery-requeues-answered',
    targets: 'reexecuted',
    why: 'startup recovery ignores the stored reply of a job left running (killed in its close stage) and re-queues it: the agent runs its turn again',
    find: 'if (j2.replyMessageId !== null) {',
    replace: 'if (j2.replyMessageId !== null && ($HIT, false)) {',
  },
  {
    name: 'cancel-after-reply',
    targets: 'canceled_and_answered',
    why: 'a cancel of a running job that has already stored its reply (in its close stage) marks it canceled at once, instead of letting it end succeeded',
    find: 'if (job.state === "queued") {',
    replace: 'if (job.state === "queued" || (job.replyMessageId !== null && ($HIT, true))) {',
  },
  {
    name: 'timeout-in-ms',
    targets: 'stuck_running',
    why: "the claim reads the job's timeout as milliseconds where seconds are meant (×1000): neither the executor's deadline nor the queue's backstop fires, a hang runs until the agent gives up",
    find: /return this\.mustGet\(job\.id\);(?=\n\s*\}\);\n\s*\}\n\s*\/\*\* Earliest time)/,
    replace: 'return (($HIT), { ...this.mustGet(job.id), timeoutS: this.mustGet(job.id).timeoutS * 1e3 });',
    // A hang must be running in a lifetime long enough to see it stuck: in a 4 min day only the first ~50 s are
    // calm (the first full run did not catch it at 3 % hangs). More hangs, a longer calm.
    flags: MANY_HANGS,
  },
  {
    name: 'background-lane-never-claimed',
    targets: 'not_terminal',
    why: "the background lane's workers never claim a job: async jobs stay queued for ever",
    find: 'job = this.opts.jobs.claimNext(lane, this.now(), this.horizonMs());',
    replace:
      'job = lane === "background" ? ($HIT, null) : this.opts.jobs.claimNext(lane, this.now(), this.horizonMs());',
  },
  {
    name: 'boot-recovery-skipped',
    targets: 'unrecovered_job',
    why: 'startup recovery is skipped: the jobs a kill -9 left running stay running (until the pool watchdog, 30 s later)',
    find: 'const recovered = store4.jobs.recoverOrphans(now());',
    replace: 'const recovered = ($HIT, { requeued: [], failed: [], completed: [] });',
  },
  {
    name: 'no-orphan-reaping',
    targets: 'orphan_process',
    why: 'the reaping at start of the agent process groups the killed process left is disabled: a hanging agent outlives its daemon',
    find: REAP_AT_START,
    replace: 'const reaped = ($HIT, 0);',
  },
  {
    name: 'agents-outlive-daemon',
    targets: 'orphan_process',
    why: "agents are spawned by the daemon itself instead of the spawner's helper (which SIGKILLs them when the daemon dies), and the reaping at start is disabled: an agent running at a kill -9 outlives its daemon (no-orphan-reaping alone is hidden by the helper)",
    find: 'return this.#helper.spawn(program, args, options);',
    replace: 'return ($HIT, spawn2(program, args, options));',
    also: [
      {
        find: REAP_AT_START,
        replace: 'const reaped = 0;',
      },
    ],
    // Only a hanging agent outlives the 5 s the check waits (the others end on their own): at 3 % hangs no kill of
    // a 4 min day landed on one (the first run with this patch did not catch it). More hangs, a longer calm.
    flags: MANY_HANGS,
  },
  {
    name: 'succeeded-without-finish-time',
    targets: 'verify',
    why: 'an answered job is settled succeeded without finished_at (breaks db verify\'s "finished jobs have a finish time")',
    find: /finishedAt: now,(?=\n\s*totalMs: now - createdAt,)/,
    replace: 'finishedAt: ($HIT, null),',
  },
  {
    name: 'stray-write-into-db',
    targets: 'integrity',
    why: "a stray write lands in the database file (the classic way to corrupt SQLite: a descriptor used after it was closed and reused): at each start the daemon writes one byte over the header of an index page nothing rewrites (task_allow_rules' unique index), and its quick_check at open is off (it would refuse the damaged file, and the soak would see only a restart that fails)",
    find: AFTER_SCHEMA_CHECK,
    replace:
      `${AFTER_SCHEMA_CHECK}\n    ` +
      'if (!readonly && opts.quickCheck === true) { $HIT; sqlite.pragma("wal_checkpoint(TRUNCATE)"); const root = sqlite.prepare("SELECT rootpage FROM sqlite_schema WHERE name = \'task_allow_rules_task_rule\'").pluck().get(); const size = sqlite.pragma("page_size", { simple: true }); const fd = fs7.openSync(opts.file, "r+"); fs7.writeSync(fd, Buffer.from([1]), 0, 1, (root - 1) * size); fs7.closeSync(fd); }',
    also: [
      {
        find: 'if (opts.quickCheck === true && state2.dbVersion > 0)',
        replace: 'if (opts.quickCheck === true && state2.dbVersion > 0 && false)',
      },
    ],
  },
  {
    name: 'retries-disabled',
    targets: 'unexpected_outcome',
    why: 'max_attempts is ignored: a retryable failure (429, 503, timeout) fails the job at once, so a plan that should succeed after a retry fails',
    find: 'if (isRetryable(errorClass) && fence.attempt < job.maxAttempts) {',
    replace: 'if (isRetryable(errorClass) && fence.attempt < ($HIT, 1)) {',
  },
  {
    name: 'exit-on-20th-message',
    targets: 'daemon_exit',
    why: 'the daemon exits by itself (code 1) after the 20th message it accepted in a lifetime',
    find: 'this.o.onAccepted(r.value);',
    replace:
      'this.o.onAccepted(r.value); if ((globalThis.__alter0MutantAccepted = (globalThis.__alter0MutantAccepted ?? 0) + 1) === 20) { $HIT; process.exit(1); }',
  },
  {
    name: 'outbox-insert-skipped',
    targets: 'notification_lost',
    why: 'announcing a job marks it notified but queues none of its notices: no webhook delivery, no Telegram answer',
    find: 'for (const n of notices) {',
    replace: 'for (const n of ($HIT, notices.slice(notices.length))) {',
  },
  {
    name: 'telegram-update-dropped',
    targets: 'telegram_message_lost',
    why: 'one Telegram message in three is acknowledged (its update offset committed) without being taken: no job, no answer',
    find: 'return this.take(api, m2, { text: text2, newTask, offset: next2 }, signal);',
    replace:
      'if (m2.message_id % 3 === 0) { $HIT; return this.o.host.commitCursor(next2); }\n          return this.take(api, m2, { text: text2, newTask, offset: next2 }, signal);',
  },
  {
    name: 'disk-full-is-500',
    targets: 'hostile_outcome',
    why: 'a write refused for a full disk (SQLITE_FULL) is answered 500 instead of 507 storage_full',
    find: 'status: 507,',
    replace: 'status: ($HIT, 500),',
  },
  {
    name: 'leak-per-message',
    targets: 'resource_bound',
    why: 'every accepted message is kept in a module-level array with 8 MiB of memory (a cache never pruned)',
    find: 'accept(input) {\n        return new Promise((resolve3, reject) => {',
    replace:
      'accept(input) {\n        $HIT; (globalThis.__alter0MutantLeak ??= []).push([input, Buffer.alloc(8 << 20, 1)]);\n        return new Promise((resolve3, reject) => {',
    // Slopes are judged only over --min-slope-window (15 min in the day profile): a short run judges the maximum.
    flags: ['--max-rss', '300'],
  },
  {
    name: 'approvals-never-expire',
    targets: 'approval_overdue',
    why: "an approval's deadline is never set: a tool use nobody answers waits past approvals.timeout",
    find: 'this.deadlines.set(row.id, this.monotonic() + this.o.timeoutMs);',
    replace: '$HIT;',
    // An unanswered question must stay pending past approvals.timeout + 10 s in one lifetime: in a 4 min day the
    // storm's restarts deny it first (the first run with this patch did not catch it). A long calm, no moments.
    flags: LONG_CALM_NO_MOMENTS,
  },
  {
    name: 'schedule-slot-not-consumed',
    targets: 'schedule_lost',
    why: 'a firing neither moves the schedule on (the next_run_at fence) nor checks the slot already fired: the schedule fires once, then only counts its slots missed (seen in the second mutation run: 1 fired, 1,189 missed)',
    find: /this\.advance\(cur\.id, f2\.nextRunAt, now\);(\n\s*\}\n\s*const fired = [^\n]*\n\s*)if \(fired\)/,
    replace: '$HIT;$1if (false)',
    // Every slot is still accounted for (fired or counted missed); what shows is a schedule that stops firing
    // while the daemon is up, which needs a stretch of the day without moments.
    flags: LONG_CALM_NO_MOMENTS,
  },
  {
    name: 'slot-fires-twice',
    targets: 'schedule_duplicate',
    why: "a firing records the slot the schedule fired last (last_fired_at, a field mixed up) instead of the one it fires, and both guards are gone: the repository's check that the slot already fired, and the unique slot index (dropped at each start, as by a migration that rebuilt schedule_runs without it)",
    find: /slotAt: fire\.slotAt,(?=\n\s*kind: fire\.catchUp)/,
    replace: 'slotAt: row.lastFiredAt !== null ? ($HIT, row.lastFiredAt) : fire.slotAt,',
    also: [
      {
        find: /(const fired = this\.db\.select\(\{ id: scheduleRuns\.id \}\)[^\n]*\n\s*)if \(fired\)/,
        replace: '$1if (false)',
      },
      {
        find: AFTER_SCHEMA_CHECK,
        replace:
          `${AFTER_SCHEMA_CHECK}\n    ` + 'if (!readonly) sqlite.exec("DROP INDEX IF EXISTS schedule_runs_slot");',
      },
    ],
    flags: LONG_CALM_NO_MOMENTS,
  },
];
