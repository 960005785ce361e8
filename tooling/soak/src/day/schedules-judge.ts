// The schedules feature's invariants as pure functions over what the database holds, so a test can feed them a
// broken observation (a slot fired twice, a firing without its job, a slot neither fired nor counted missed).
import type { Finding } from './approvals-judge.js';

/** What schedules-db-main.js reads (times are the daemon's, epoch ms). */
export interface ScheduleObservation {
  schedules: {
    id: string;
    kind: string;
    expr: string;
    state: string;
    paused_reason: string | null;
    next_run_at: number | null;
    created_at: number;
  }[];
  runs: { id: string; schedule_id: string; slot_at: number; kind: string; job_id: string; job_found: number }[];
  /** Jobs on channel `schedule` (session_id is the schedule's id). */
  jobs: { id: string; session_id: string | null; retry_of: string | null }[];
  /** schedule_missed (with how many), schedule_refused, schedule_paused. */
  events: { kind: string; schedule_id: string; missed: number; created_at: number }[];
}

/** How far each of the harness's schedules is judged: slots in (created_at, endAt) must be accounted for. */
export interface Judged {
  id: string;
  /** The end of the window: the schedule's next slot when the harness stopped it; null to take it from the rows. */
  endAt: number | null;
}

export interface ScheduleStats {
  slots_planned: number;
  fired: number;
  catch_ups: number;
  missed: number;
  refused: number;
  pauses: number;
  not_counted: number;
  lost_slots: number;
}

/** Slots never counted this far (the scheduler's own guard is the same order). */
const MAX_SLOTS = 100_000;

/** The next slot after `t` of an `every` period (ms, anchored at creation) or of cron `* * * * *`; null: not known. */
function slotAfter(kind: string, expr: string, anchor: number, t: number): number | null {
  if (kind === 'every') {
    const p = Number(expr);
    if (!(p > 0)) return null;
    return t < anchor ? anchor + p : anchor + (Math.floor((t - anchor) / p) + 1) * p;
  }
  // Every minute in any zone (zone offsets are whole minutes); other cron patterns are not counted here.
  if (kind === 'cron' && expr.trim().split(/\s+/).join(' ') === '* * * * *')
    return (Math.floor(t / 60_000) + 1) * 60_000;
  return null;
}

/** Slots strictly between `from` and `to`; null when the timing is not one slotAfter knows. */
export function slotsBetween(kind: string, expr: string, from: number, to: number): number | null {
  let n = 0;
  for (
    let s = slotAfter(kind, expr, from, from);
    s !== null && s < to && n < MAX_SLOTS;
    s = slotAfter(kind, expr, from, s)
  )
    n++;
  return slotAfter(kind, expr, from, from) === null ? null : n;
}

/** No slot fired twice, no job of two firings, every firing has its job, every schedule job is a firing's. */
function judgeRows(obs: ScheduleObservation, ids: ReadonlySet<string>, out: Finding[]): void {
  const runs = obs.runs.filter((r) => ids.has(r.schedule_id));
  const bySlot = new Map<string, number>();
  const byJob = new Map<string, string[]>();
  for (const r of runs) {
    if (r.kind !== 'now')
      bySlot.set(`${r.schedule_id}@${r.slot_at}`, (bySlot.get(`${r.schedule_id}@${r.slot_at}`) ?? 0) + 1);
    byJob.set(r.job_id, [...(byJob.get(r.job_id) ?? []), r.id]);
    if (!r.job_found)
      out.push({
        kind: 'schedule_lost',
        detail: `firing ${r.id} of schedule ${r.schedule_id} names job ${r.job_id}, which does not exist`,
      });
  }
  for (const [slot, n] of bySlot)
    if (n > 1) out.push({ kind: 'schedule_duplicate', detail: `slot ${slot} (schedule@ms) fired ${n} times` });
  for (const [job, fs] of byJob)
    if (fs.length > 1)
      out.push({ kind: 'schedule_duplicate', detail: `job ${job} belongs to ${fs.length} firings (${fs.join(', ')})` });
  for (const j of obs.jobs) {
    if (j.retry_of !== null || j.session_id === null || !ids.has(j.session_id) || byJob.has(j.id)) continue;
    out.push({
      kind: 'schedule_lost',
      detail: `job ${j.id} on channel schedule (schedule ${j.session_id}) belongs to no firing`,
    });
  }
}

/** The window's end: as given, else the next slot of an active schedule, else the latest firing or pause. */
function windowEnd(
  obs: ScheduleObservation,
  s: ScheduleObservation['schedules'][number],
  given: number | null,
): number {
  if (given !== null) return given;
  if (s.next_run_at !== null) return s.next_run_at;
  const pausedAt = obs.events
    .filter((e) => e.kind === 'schedule_paused' && e.schedule_id === s.id)
    .map((e) => e.created_at);
  const fired = obs.runs.filter((r) => r.schedule_id === s.id).map((r) => r.slot_at + 1);
  return Math.max(s.created_at, ...pausedAt, ...fired);
}

/** Every slot of the window fired, or was counted missed or refused. */
function judgeSlots(obs: ScheduleObservation, judged: readonly Judged[], out: Finding[], st: ScheduleStats): void {
  for (const j of judged) {
    const s = obs.schedules.find((x) => x.id === j.id);
    if (s === undefined) {
      out.push({ kind: 'schedule_lost', detail: `schedule ${j.id} is not in the database` });
      continue;
    }
    const end = windowEnd(obs, s, j.endAt);
    const planned = slotsBetween(s.kind, s.expr, s.created_at, end);
    const runs = obs.runs.filter((r) => r.schedule_id === s.id && r.kind !== 'now');
    const fired = new Set(runs.filter((r) => r.slot_at > s.created_at && r.slot_at < end).map((r) => r.slot_at)).size;
    const ev = obs.events.filter((e) => e.schedule_id === s.id);
    const missed = ev.filter((e) => e.kind === 'schedule_missed').reduce((a, e) => a + e.missed, 0);
    const refused = ev.filter((e) => e.kind === 'schedule_refused').length;
    st.fired += runs.filter((r) => r.kind === 'slot').length;
    st.catch_ups += runs.filter((r) => r.kind === 'catch_up').length;
    st.missed += missed;
    st.refused += refused;
    st.pauses += ev.filter((e) => e.kind === 'schedule_paused').length;
    if (planned === null) {
      st.not_counted++;
      continue;
    }
    st.slots_planned += planned;
    const lost = planned - fired - missed - refused;
    if (lost <= 0) continue;
    st.lost_slots += lost;
    out.push({
      kind: 'schedule_lost',
      detail: `schedule ${s.id} (${s.kind} ${s.expr}) had ${planned} slots from ${new Date(s.created_at).toISOString()} to ${new Date(end).toISOString()}: ${fired} fired, ${missed} counted missed, ${refused} refused — ${lost} neither fired nor counted missed`,
    });
  }
}

/** All the schedule invariants over one observation of the database. */
export function judgeSchedules(
  obs: ScheduleObservation,
  judged: readonly Judged[],
): { findings: Finding[]; stats: ScheduleStats } {
  const out: Finding[] = [];
  const stats: ScheduleStats = {
    slots_planned: 0,
    fired: 0,
    catch_ups: 0,
    missed: 0,
    refused: 0,
    pauses: 0,
    not_counted: 0,
    lost_slots: 0,
  };
  judgeRows(obs, new Set(judged.map((j) => j.id)), out);
  judgeSlots(obs, judged, out, stats);
  return { findings: out, stats };
}

/** Along the way, from GET /api/schedules/{id} (its latest 20 firings): no slot twice. */
export function duplicateSlots(id: string, runs: readonly { slot_at: string; kind: string }[]): Finding[] {
  const seen = new Set<string>();
  const out: Finding[] = [];
  for (const r of runs) {
    if (r.kind === 'now') continue;
    if (seen.has(r.slot_at))
      out.push({ kind: 'schedule_duplicate', detail: `schedule ${id} fired its slot ${r.slot_at} twice` });
    seen.add(r.slot_at);
  }
  return out;
}

/** One look at a schedule over the API (harness clock): whether it was active, the ids of its latest on-time firings. */
export interface FiringLook {
  at: number;
  active: boolean;
  runIds: readonly string[];
}

export interface Span {
  from: number;
  to: number;
}

/** How much of `span` no `excused` window covers. */
function freeMs(span: Span, excused: readonly Span[]): number {
  let covered = 0;
  let reach = span.from;
  for (const e of [...excused].sort((a, b) => a.from - b.from)) {
    const from = Math.max(e.from, reach);
    const to = Math.min(e.to, span.to);
    if (to > from) covered += to - from;
    reach = Math.max(reach, to);
  }
  return span.to - span.from - covered;
}

/**
 * Spans in which an active schedule showed no new firing for at least `stallMs` outside the `excused` windows
 * (hostile moments and the scheduler's time to follow them, the daemon's downtime). Slots that pass while the daemon
 * is down are counted missed, and that is fine; a daemon that is up fires each slot on time, or once late after
 * downtime — a schedule that only counts its slots missed while the daemon runs has stopped (the slot-by-slot
 * judge cannot tell the two apart: both account for every slot).
 */
export function stalls(looks: readonly FiringLook[], stallMs: number, excused: readonly Span[]): Span[] {
  const out: Span[] = [];
  const seen = new Set<string>();
  let span: Span | null = null;
  const close = (): void => {
    if (span !== null && freeMs(span, excused) >= stallMs) out.push(span);
  };
  for (const l of looks) {
    const fresh = l.runIds.some((id) => !seen.has(id));
    for (const id of l.runIds) seen.add(id);
    if (!l.active || fresh) {
      close();
      span = l.active ? { from: l.at, to: l.at } : null;
    } else if (span === null) span = { from: l.at, to: l.at };
    else span.to = l.at;
  }
  close();
  return out;
}

/** The longest stretch (free of `excused` time, ms) in which an active schedule showed no new firing: the check's margin. */
export function longestQuietMs(looks: readonly FiringLook[], excused: readonly Span[]): number {
  return Math.max(0, ...stalls(looks, 0, excused).map((s) => freeMs(s, excused)));
}
