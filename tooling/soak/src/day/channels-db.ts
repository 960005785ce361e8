import { fileURLToPath } from 'node:url';
import { readJsonChild } from '../json-child.js';

/** A Telegram chat message the daemon knows (the owner's message that became a job, or a bot message of its reply). */
interface DbRef {
  chat: string;
  msg: number;
  job: string;
}

/** A job as the channel checks read it (booleans come from SQLite as 0/1). */
export interface DbJob {
  id: string;
  state: string;
  channel: string;
  session: string | null;
  lane: string;
  retryOf: string | null;
  notify: 0 | 1;
  notified: 0 | 1;
  replied: 0 | 1;
  /** The start of the job's message, for Telegram jobs only (it carries the soak plan's key). */
  head: string | null;
}

/** A notice the outbox gave up on. */
interface DbDeadNotice {
  job: string | null;
  channel: string;
  target: string;
  attempts: number;
  error: string | null;
}

/** One consistent read of the channel tables (see channels-db-main.ts). */
export interface ChannelsDb {
  refs: DbRef[];
  jobs: DbJob[];
  dead: DbDeadNotice[];
}

const MAIN = fileURLToPath(new URL('./channels-db-main.js', import.meta.url));

/** Runs channels-db-main.js with a time bound; rejects with what failed. */
export function readChannelsDb(
  file: string,
  telegramOnly: boolean,
  signal: AbortSignal,
  timeoutMs = 60_000,
): Promise<ChannelsDb> {
  const args = [file, ...(telegramOnly ? ['--telegram'] : [])];
  return readJsonChild<ChannelsDb>(MAIN, args, `channel tables of ${file}: the reader`, signal, timeoutMs);
}

const TERMINAL_STATES = new Set(['succeeded', 'failed', 'canceled']);

/** Ended as far as notices go: a stored answer is announced at once, else the terminal state. */
export function announceable(j: DbJob): boolean {
  return j.replied === 1 || TERMINAL_STATES.has(j.state);
}
