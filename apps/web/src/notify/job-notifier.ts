import { isTerminalJobState, type JobState } from '@alter0/core';

/** What a notification says about a job's end: from a live `job` event or from a message answered at once. */
export interface EndedJob {
  id: string;
  state: JobState;
  reply: string | null;
  error: { class: string; message: string } | null;
}

export interface JobNotification {
  jobId: string;
  title: string;
  body: string;
}

export interface JobNotifierDeps {
  /** Whether a job that ends now is notified: the owner turned it on, the browser allows it, the tab is hidden. */
  shouldNotify(): boolean;
  show(n: JobNotification): void;
  /** Where the ids are kept for this tab (sessionStorage): a reload still knows which jobs were started here. */
  storage?: Storage | null;
}

const KEY = 'alter0.notify.jobs';
/** Ids kept per list: a console left open for weeks starts many jobs. */
const MAX_IDS = 200;
/** Ends of jobs not (yet) known to be ours: a message answered at once ends before its id reaches the composer. */
const MAX_EARLY = 50;
const BODY_MAX = 160;

/** The first line of text worth reading, without Markdown's leading marks, cut to a notification's length. */
export function firstLine(text: string): string {
  const line =
    text
      .split(/\r?\n/)
      .map((l) => l.replace(/^\s*(?:#{1,6}\s+|>\s*|[-*+]\s+|\d+[.)]\s+)*/, '').trim())
      .find((l) => l !== '' && !/^(?:```|~~~|[-*_]{3,}$)/.test(l)) ?? '';
  return line.length > BODY_MAX ? `${line.slice(0, BODY_MAX - 1)}…` : line;
}

/** The notification for a job's end: its outcome, then the first line of the reply or of the error. */
export function describeEnd(job: EndedJob): JobNotification {
  const error = job.error ? `${job.error.class}: ${job.error.message}` : '';
  const text = job.state === 'succeeded' ? (job.reply ?? '') : error || (job.reply ?? '');
  const fallback = job.state === 'succeeded' ? 'The reply has no text.' : `The job ${job.state}.`;
  return { jobId: job.id, title: `alter0: job ${job.state}`, body: firstLine(text) || fallback };
}

/**
 * Notifies the end of the jobs this console started (the composer tells it their ids), once each, and of no other
 * job: every live `job` event is passed to `seen`, and only a started id that reaches a final state is shown —
 * and only when `shouldNotify()` says so at that moment (a job that ends while the owner is looking is not told).
 */
export class JobNotifier {
  private readonly started: Set<string>;
  private readonly settled: Set<string>;
  private readonly early = new Map<string, EndedJob>();

  constructor(private readonly deps: JobNotifierDeps) {
    const saved = this.load();
    this.started = new Set(saved.started);
    this.settled = new Set(saved.settled);
  }

  /** A job this console started (sent from the composer, or retried from its card). */
  track(id: string): void {
    if (this.settled.has(id) || this.started.has(id)) return;
    const ended = this.early.get(id);
    if (ended) return this.settle(ended);
    this.started.add(id);
    trim(this.started);
    this.save();
  }

  /** A job's current state (a live event, or a message's answer): its end is notified when it is one of ours. */
  seen(job: EndedJob): void {
    if (!isTerminalJobState(job.state) || this.settled.has(job.id)) return;
    if (this.started.has(job.id)) return this.settle(job);
    this.early.set(job.id, job);
    trim(this.early);
  }

  /**
   * A message answered at once (200 with its reply). The reply comes when it is stored, often before the closer
   * ends the job: a reply the owner saw here while looking settles the job, so its later end is not told.
   */
  answered(job: EndedJob): void {
    if (isTerminalJobState(job.state)) return this.seen(job);
    if (job.reply === null || this.settled.has(job.id) || this.deps.shouldNotify()) return;
    this.settle(job, false);
  }

  private settle(job: EndedJob, tell = true): void {
    this.started.delete(job.id);
    this.early.delete(job.id);
    this.settled.add(job.id);
    trim(this.settled);
    this.save();
    if (tell && this.deps.shouldNotify()) this.deps.show(describeEnd(job));
  }

  private load(): { started: string[]; settled: string[] } {
    try {
      const raw = this.deps.storage?.getItem(KEY);
      const v: unknown = raw ? JSON.parse(raw) : null;
      if (v && typeof v === 'object' && 'started' in v && 'settled' in v) {
        const { started, settled } = v;
        if (isIds(started) && isIds(settled)) return { started, settled };
      }
    } catch {
      // unreadable or blocked: this tab starts with no ids
    }
    return { started: [], settled: [] };
  }

  private save(): void {
    try {
      this.deps.storage?.setItem(KEY, JSON.stringify({ started: [...this.started], settled: [...this.settled] }));
    } catch {
      // storage full or blocked: the ids in memory still serve this page
    }
  }
}

function isIds(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

/** Drops the oldest entries (a Set and a Map keep insertion order). */
function trim(c: Set<string> | Map<string, unknown>, max = c instanceof Map ? MAX_EARLY : MAX_IDS): void {
  for (const k of c.keys()) {
    if (c.size <= max) return;
    c.delete(k);
  }
}
