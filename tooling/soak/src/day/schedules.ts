// The day profile's schedules: a few schedules made over the API at the start of the load (every few seconds and
// every minute, with ok plans so the soak agent answers them), stopped (paused) at the end of the load, and the
// invariants: no slot fired twice, every firing has its job and every schedule job its firing, and every slot of
// the window fired or was counted missed (a kill -9 or a clock jump may make slots missed, never lost), and an
// active schedule goes on firing while the daemon is up.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Schedule } from '@alter0/api';
import { parseDuration } from '../options.js';
import { encodePlan } from '../plan.js';
import { harnessError, violate } from '../run-state.js';
import type { SoakRun } from '../run-state.js';
import type { SoakFeature } from './feature.js';
import { readSchedules } from './schedules-db.js';
import { duplicateSlots, judgeSchedules, longestQuietMs, stalls } from './schedules-judge.js';
import type { FiringLook, Judged, Span } from './schedules-judge.js';

/** A next slot further ahead than any period of the day's schedules: the daemon's clock was moved ahead. */
const CLOCK_AHEAD_MS = 120_000;
/**
 * After a hostile moment ends, the scheduler may take this long to fire again: it looks at least every 30 s, and a
 * clock that came back is followed at its next look (its next slot may have been set hours ahead).
 */
const FOLLOW_MS = 60_000;
/** After a restart the harness's own snapshot of the database comes before the spawn (not in restartMs). */
const RESTART_SLACK_MS = 1000;

export interface SchedulesOptions {
  /** `every` periods, one schedule each. Default ['10s', '25s']. */
  every?: string[];
  /** Cron patterns, one schedule each (only `* * * * *` is counted slot by slot). Default ['* * * * *']. */
  cron?: string[];
  /** How often poll() reads each schedule's latest firings for a duplicate. Default 30 s. */
  checkEveryMs?: number;
}

interface Mine {
  spec: { every?: string; cron?: string };
  text: string;
  id: string | null;
  /** The schedule's next slot read just before the harness paused it (daemon clock, ms); null: the rows say. */
  endAt: number | null;
  /** The harness has stopped it (paused it, or found it paused or done). */
  stopped: boolean;
  /** What poll() saw of it, in order. */
  looks: FiringLook[];
}

/** The schedules feature (see the file's head); `judged()` says which schedules and windows final() judges. */
export function schedulesFeature(opts: SchedulesOptions = {}): SoakFeature & { judged(): Judged[] } {
  return new SchedulesFeature(opts);
}

class SchedulesFeature implements SoakFeature {
  readonly name = 'schedules';
  private readonly mine: Mine[] = [];
  private readonly checkEveryMs: number;
  private lastCheck = 0;
  private readonly c: Record<string, number> = { schedules: 0, create_errors: 0, paused_by_harness: 0 };

  constructor(private readonly opts: SchedulesOptions) {
    this.checkEveryMs = opts.checkEveryMs ?? 30_000;
  }

  prepare(run: SoakRun): Promise<{ sets: string[]; env: Record<string, string> }> {
    run.result.features[this.name] = this.c;
    const specs: { every?: string; cron?: string }[] = [
      ...(this.opts.every ?? ['10s', '25s']).map((every) => ({ every })),
      ...(this.opts.cron ?? ['* * * * *']).map((cron) => ({ cron })),
    ];
    specs.forEach((spec, i) => {
      const plan = {
        key: `sch${i}-${run.opts.seed}`,
        exec: 'ok' as const,
        n: 0,
        route: 'ok' as const,
        close: 'yes' as const,
      };
      const when = spec.every === undefined ? `cron ${spec.cron ?? ''}` : `every ${spec.every}`;
      this.mine.push({
        spec,
        text: `${encodePlan(plan)} scheduled check (${when})`,
        id: null,
        endAt: null,
        stopped: false,
        looks: [],
      });
    });
    // once is the default; said here so the report's settings are explicit.
    return Promise.resolve({ sets: ['schedules.missed=once'], env: {} });
  }

  /** Makes the schedules (again until each exists), lets them fire until loadEnd, then pauses them. */
  async load(run: SoakRun, loadEnd: number): Promise<void> {
    while (!run.signal.aborted && Date.now() < loadEnd && this.mine.some((m) => m.id === null)) {
      if (run.up) await this.create(run);
      if (this.mine.some((m) => m.id === null)) await this.pause(run, 1000);
    }
    await this.pause(run, Math.max(0, loadEnd - Date.now()));
    // The slots after the load are not the day's: stop them, so the drain and the final checks see a still queue.
    const end = Date.now() + 60_000;
    while (!run.signal.aborted && Date.now() < end && this.mine.some((m) => m.id !== null && !m.stopped)) {
      if (run.up) await this.stop(run);
      if (this.mine.some((m) => m.id !== null && !m.stopped)) await this.pause(run, 1000);
    }
  }

  async poll(run: SoakRun): Promise<void> {
    if (Date.now() - this.lastCheck < this.checkEveryMs) return;
    this.lastCheck = Date.now();
    for (const m of this.mine) {
      if (m.id === null) continue;
      const id = m.id;
      const a = await run.api.call((c, o) => c.getSchedule(id, o));
      if (a.kind !== 'ok') continue;
      run.result.checks.schedule_duplicate++;
      for (const f of duplicateSlots(id, a.value.runs)) violate(run, f.kind, f.detail);
      // A catch-up comes with every restart, so only on-time firings show that the scheduler runs (the storm's
      // short lifetimes still fire on time: a slot missed while down is within its grace at the restart).
      const onTime = a.value.runs.filter((r) => r.kind !== 'catch_up').map((r) => r.id);
      m.looks.push({ at: Date.now(), active: a.value.state === 'active', runIds: onTime });
    }
  }

  judged(): Judged[] {
    return this.mine.flatMap((m) => (m.id === null ? [] : [{ id: m.id, endAt: m.endAt }]));
  }

  async final(run: SoakRun): Promise<void> {
    const judged = this.judged();
    if (judged.length === 0) return;
    try {
      const obs = await readSchedules(run.dbFile, run.signal);
      const { findings, stats } = judgeSchedules(obs, judged);
      run.result.checks.schedule_duplicate += obs.runs.length;
      run.result.checks.schedule_lost += obs.runs.length + obs.jobs.length + judged.length;
      Object.assign(this.c, stats);
      for (const f of findings) violate(run, f.kind, f.detail);
    } catch (err) {
      if (!run.signal.aborted) harnessError(run, 'schedules: reading the database', err);
    }
    this.judgeStalls(run);
  }

  /** Each schedule went on firing while the daemon was up (see `stalls`). */
  private judgeStalls(run: SoakRun): void {
    const excused: Span[] = [
      // A channel's peer going down leaves the scheduler alone; every other moment touches the daemon.
      ...run.result.moments
        .filter((m) => m.peerOnly !== true)
        .map((m) => ({ from: m.startedAt, to: m.endedAt + FOLLOW_MS })),
      ...run.result.restarts.map((r) => ({ from: r.at, to: r.at + r.restartMs + RESTART_SLACK_MS })),
    ];
    for (const m of this.mine) {
      if (m.id === null) continue;
      const stallMs = stallAfterMs(m.spec);
      run.result.checks.schedule_lost++;
      const quietS = Math.round(longestQuietMs(m.looks, excused) / 1000);
      this.c.looks = (this.c.looks ?? 0) + m.looks.length;
      this.c.longest_quiet_s = Math.max(this.c.longest_quiet_s ?? 0, quietS);
      run.log(
        `schedules: ${m.id} looked at ${m.looks.length} times, longest quiet stretch ${quietS} s (a stall from ${Math.round(stallMs / 1000)} s)`,
      );
      for (const s of stalls(m.looks, stallMs, excused))
        violate(
          run,
          'schedule_lost',
          `schedule ${m.id} (${m.spec.every === undefined ? `cron ${m.spec.cron ?? ''}` : `every ${m.spec.every}`}) was active and fired nothing new from ${new Date(s.from).toISOString()} to ${new Date(s.to).toISOString()}: over ${Math.round(stallMs / 1000)} s of that the daemon was up and no hostile moment was under way`,
        );
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private async pause(run: SoakRun, ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: run.signal }).catch(() => undefined);
  }

  /** Adopts schedules an earlier POST made without its answer arriving, then adds the ones still missing. */
  private async create(run: SoakRun): Promise<void> {
    try {
      const list = await run.api.call((c, o) => c.listSchedules(o));
      if (list.kind !== 'ok') return;
      for (const m of this.mine) m.id ??= list.value.find((s: Schedule) => s.text === m.text)?.id ?? null;
      for (const m of this.mine) {
        if (m.id !== null) continue;
        const a = await run.api.call((c, o) => c.addSchedule({ text: m.text, ...m.spec, lane: 'background' }, o));
        if (a.kind === 'ok') {
          m.id = a.value.id;
          this.c.schedules = (this.c.schedules ?? 0) + 1;
        } else this.c.create_errors = (this.c.create_errors ?? 0) + 1;
      }
    } catch {
      // The daemon is down; the next round looks whether the POST took effect.
      this.c.create_errors = (this.c.create_errors ?? 0) + 1;
    }
  }

  /** Reads each schedule's next slot (the end of its judged window), then pauses it. */
  private async stop(run: SoakRun): Promise<void> {
    for (const m of this.mine) {
      if (m.id === null || m.stopped) continue;
      const id = m.id;
      try {
        const s = await run.api.call((c, o) => c.getSchedule(id, o));
        if (s.kind !== 'ok') continue;
        const next = s.value.next_run_at === null ? null : Date.parse(s.value.next_run_at);
        if (s.value.state === 'active') {
          const p = await run.api.call((c, o) => c.pauseSchedule(id, o));
          if (p.kind !== 'ok') continue;
          this.c.paused_by_harness = (this.c.paused_by_harness ?? 0) + 1;
        }
        // Paused already (after failures) or done: the rows say where its window ends. A daemon clock that was moved
        // ahead (a clock-jump moment) may have put its next slot hours past real time, and the scheduler follows a
        // clock that came back only at its next look (≤ 30 s): the window never ends after the harness's own now
        // (less a few seconds for a slot being fired right now). Without a jump the next slot is at most a period
        // ahead, and every slot before it has fired or been counted.
        m.endAt = next === null ? null : next > Date.now() + CLOCK_AHEAD_MS ? Date.now() - 5000 : next;
        m.stopped = true;
      } catch {
        // Down; tried again.
      }
    }
  }
}

/**
 * How long an active schedule may show no new on-time firing while the daemon is up: three periods (a slot on time,
 * or late within its grace), at least 90 s.
 */
function stallAfterMs(spec: { every?: string; cron?: string }): number {
  // Only minute patterns are used here; an hour is the safe guess for any other.
  const period =
    spec.every !== undefined
      ? parseDuration(spec.every, 'every')
      : spec.cron?.trim().split(/\s+/)[0] === '*'
        ? 60_000
        : 3_600_000;
  return Math.max(90_000, 3 * period);
}
