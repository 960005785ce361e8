import { setTimeout as sleep } from 'node:timers/promises';
import { ApiRequestError } from '@alter0/api';
import type { DaemonProcess } from '../../daemon.js';
import { TERMINAL } from '../../http.js';
import { violate } from '../../run-state.js';
import type { SoakRun } from '../../run-state.js';

/** What the probes of one hostile moment got back, by kind of answer. */
export interface Tally {
  sent: number;
  accepted: number;
  /** 507 storage_full or 503 storage_* (a write the database did not take, said clearly). */
  storageRefused: number;
  answered500: number;
  /** Any other refusal (4xx, a 503 that is not about storage, …). */
  otherRefused: number;
  /** No answer within the bound: the daemon is gone, or hangs. */
  noAnswer: number;
  /** Each distinct answer (`202`, `507 storage_full`, `no answer: <why>`) and how often. */
  byAnswer: Record<string, number>;
  /** Job ids accepted (2xx): each must still be there afterwards. */
  ids: string[];
  /** When each 2xx answer arrived (a write cannot be accepted while another program holds the lock). */
  acceptedAt: number[];
  /** The refusal messages seen (the first few distinct ones). */
  messages: string[];
  /** The slowest answer, ms (a request waiting on a held lock shows here). */
  maxMs: number;
}

export function emptyTally(): Tally {
  return {
    sent: 0,
    accepted: 0,
    storageRefused: 0,
    answered500: 0,
    otherRefused: 0,
    noAnswer: 0,
    byAnswer: {},
    ids: [],
    acceptedAt: [],
    messages: [],
    maxMs: 0,
  };
}

/** A message with no soak plan marker: the fault agent answers it at once. */
function probeText(name: string, n: number): string {
  return `hostile moment ${name}: probe ${n}`;
}

type Sent = { id: string; refused?: undefined } | { id?: undefined; refused: ApiRequestError };

/** Counts one answer in `t` under `key`. */
function count(t: Tally, key: string): void {
  t.byAnswer[key] = (t.byAnswer[key] ?? 0) + 1;
}

/**
 * Why a request got no answer, from the innermost error (a timeout, a socket the other side closed, a refused
 * connection): a daemon that hangs and a connection lost between two requests are different defects.
 */
export function whyNoAnswer(err: unknown): string {
  let why = String(err);
  // The harness's own bound: the inner error is only the abort it caused.
  if (err instanceof Error && err.message.startsWith('no answer within')) return err.message;
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 6; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    why = typeof code === 'string' ? `${e.message} [${code}]` : e.message;
  }
  return why.slice(0, 160);
}

/** The requests that got no answer and why, for a failure message: `2 × no answer: … [UND_ERR_SOCKET]`. */
export function noAnswers(t: Tally): string {
  return Object.entries(t.byAnswer)
    .filter(([k]) => k.startsWith('no answer'))
    .map(([k, n]) => `${n} × ${k}`)
    .join('; ');
}

/**
 * One new message, alternately `POST /api/message` (wait_ms 0: answered 202 at once) and `POST /api/jobs`, with its
 * answer counted in `t`. The refusal message is kept: a clear message is part of what is checked. `text` replaces
 * the plain probe text (e.g. with a soak plan marker for a job that runs a while).
 */
export async function probe(
  run: SoakRun,
  name: string,
  t: Tally,
  timeoutMs = 15_000,
  text?: string,
): Promise<string | null> {
  const n = t.sent++;
  const content = text ?? probeText(name, n);
  const t0 = Date.now();
  try {
    const a = await run.api.call(async (c, o): Promise<Sent> => {
      try {
        if (n % 2 === 0)
          return { id: (await c.sendMessage({ content, channel_id: 'soak', wait_ms: 0 }, o)).body.job_id };
        return { id: (await c.submitJob({ content, channel_id: 'soak', lane: 'interactive' }, o)).job_id };
      } catch (e) {
        // The refusal with its message (run.api keeps only status and code).
        if (e instanceof ApiRequestError) return { refused: e };
        throw e;
      }
    }, timeoutMs);
    t.maxMs = Math.max(t.maxMs, Date.now() - t0);
    if (a.kind === 'ok' && a.value.id !== undefined) {
      t.accepted++;
      t.ids.push(a.value.id);
      t.acceptedAt.push(Date.now());
      count(t, '2xx');
      return a.value.id;
    }
    if (a.kind === 'ok') {
      if (a.value.refused !== undefined) refused(t, a.value.refused);
    } else if (a.kind === 'refused') refused(t, new ApiRequestError(a.status, a.code, ''));
    else {
      t.otherRefused++;
      count(t, `${a.status ?? '?'} contract drift`);
    }
  } catch (err) {
    if (run.signal.aborted) throw err;
    t.maxMs = Math.max(t.maxMs, Date.now() - t0);
    t.noAnswer++;
    count(t, `no answer: ${whyNoAnswer(err)}`);
  }
  return null;
}

function refused(t: Tally, e: ApiRequestError): void {
  count(t, `${e.status} ${e.code}`);
  if (e.status === 500) t.answered500++;
  else if ((e.status === 507 || e.status === 503) && e.code.startsWith('storage_')) t.storageRefused++;
  else t.otherRefused++;
  const msg = `${e.status} ${e.code}: ${e.message}`;
  if (t.messages.length < 3 && !t.messages.includes(msg)) t.messages.push(msg);
}

/** Where each job is once every one is terminal or `boundMs` has passed: its state, or `missing` (404). */
export async function settle(run: SoakRun, ids: string[], boundMs: number): Promise<Map<string, string>> {
  const seen = new Map<string, string>();
  const end = Date.now() + boundMs;
  for (;;) {
    for (const id of ids) {
      if (TERMINAL.has(seen.get(id) ?? '')) continue;
      try {
        const a = await run.api.call((c, o) => c.getJob(id, o), 5000);
        if (a.kind === 'ok') seen.set(id, a.value.state);
        else if (a.kind === 'refused' && a.status === 404) seen.set(id, 'missing');
      } catch (err) {
        if (run.signal.aborted) throw err;
        seen.set(id, 'no answer');
      }
    }
    const open = ids.filter((id) => !TERMINAL.has(seen.get(id) ?? ''));
    if (open.length === 0 || Date.now() >= end || open.every((id) => seen.get(id) === 'missing')) return seen;
    await sleep(300, undefined, { signal: run.signal });
  }
}

/** The jobs of `states` that did not end (`missing`, still running, no answer), as text; empty when all ended. */
export function unsettled(states: Map<string, string>): string[] {
  return [...states].filter(([, s]) => !TERMINAL.has(s)).map(([id, s]) => `${id} ${s}`);
}

/**
 * After the harm is undone: new messages until one is accepted and has succeeded, within `boundMs`. Returns how
 * long that took from `since`, or null when it did not happen in time.
 */
export async function recovery(run: SoakRun, name: string, since: number, boundMs: number): Promise<number | null> {
  const end = since + boundMs;
  const t = emptyTally();
  while (Date.now() < end && !run.signal.aborted) {
    const id = await probe(run, `${name} recovery`, t, Math.max(1000, end - Date.now()));
    if (id !== null) {
      const s = await settle(run, [id], Math.max(0, end - Date.now()));
      if (s.get(id) === 'succeeded') return Date.now() - since;
      if (TERMINAL.has(s.get(id) ?? '')) continue;
      return null;
    }
    await sleep(250, undefined, { signal: run.signal });
  }
  return null;
}

/** The storage and queue components as GET /api/status has them, as text; null when it does not answer. */
export async function storageStatus(
  run: SoakRun,
): Promise<{ storage: string; storageError: string; queue: string; queueError: string } | null> {
  try {
    const a = await run.api.call((c, o) => c.status(o), 5000);
    if (a.kind !== 'ok') return null;
    const { storage, queue } = a.value.components;
    return {
      storage: storage.state,
      storageError: storage.last_error?.message ?? '',
      queue: queue.state,
      queueError: queue.last_error?.message ?? '',
    };
  } catch (err) {
    if (run.signal.aborted) throw err;
    return null;
  }
}

/** Counts the daemon's log lines (all, and those matching `pattern`) from now until the returned stop is called. */
export function countLines(
  d: DaemonProcess | null,
  pattern: RegExp,
): { stop: () => { lines: number; matching: number } } {
  let lines = 0;
  let matching = 0;
  const l = (line: string): void => {
    lines++;
    if (pattern.test(line)) matching++;
  };
  d?.lineListeners.add(l);
  return {
    stop: () => {
      d?.lineListeners.delete(l);
      return { lines, matching };
    },
  };
}

/** One expected outcome: counted as a check; a violation (kind hostile_outcome) when it failed. Returns whether it held. */
export function expectThat(run: SoakRun, moment: string, held: boolean, failure: string): boolean {
  run.result.checks.hostile_outcome++;
  if (!held) violate(run, 'hostile_outcome', `${moment}: ${failure}`);
  return held;
}

/** Whether the daemon that was serving at the start of a moment is still the one serving, alive. */
export function sameDaemon(run: SoakRun, d: DaemonProcess | null): boolean {
  return d !== null && run.daemon === d && d.alive;
}
