import { useCallback, useEffect } from 'react';
import type { Job, Schedule } from '@alter0/api';
import { useApp } from '../app-context.js';
import { useLoad, type Loaded } from '../ui/use-load.js';

/** The channel of the jobs a schedule's firing makes. */
const SCHEDULE_CHANNEL = 'schedule';
/** The reason the daemon gives when the owner pauses a schedule (docs/api.md); any other one is a pause after failures. */
const OWNER_PAUSE = 'paused by the owner';
const ENDED: ReadonlySet<Job['state']> = new Set(['succeeded', 'failed', 'canceled']);

/** Paused by the daemon because its jobs kept failing: the owner's to look at. */
export function pausedAfterFailures(s: Schedule): boolean {
  return s.state === 'paused' && s.consecutive_failures > 0 && s.paused_reason !== OWNER_PAUSE;
}

/**
 * The owner's schedules. The daemon sends no schedule event, so the list is loaded again when a job of channel
 * `schedule` changes (a firing made it, or it ended and was counted on its schedule), when this console changed a
 * schedule (the bus says so), on refresh and after a live reconnect, and every `pollMs` when given (so that what
 * "next run" says stays true).
 */
export function useLiveSchedules(pollMs?: number): Loaded<Schedule[]> {
  const { api, bus } = useApp();
  const load = useCallback((signal: AbortSignal) => api.listSchedules({ signal }), [api]);
  const loaded = useLoad(load);
  const { reload } = loaded;
  useEffect(() => {
    // A job emits several events in quick succession: one load for the burst. Its end is counted on the schedule
    // just after the job's event; a second, later load catches a count that came after the first one.
    let soon: ReturnType<typeof setTimeout> | undefined;
    let settled: ReturnType<typeof setTimeout> | undefined;
    const offJob = bus.onJob((j) => {
      if (j.channel_id !== SCHEDULE_CHANNEL) return;
      clearTimeout(soon);
      soon = setTimeout(reload, 300);
      if (ENDED.has(j.state)) {
        clearTimeout(settled);
        settled = setTimeout(reload, 1_500);
      }
    });
    const offChanged = bus.onSchedulesChanged(reload);
    const poll = pollMs ? setInterval(reload, pollMs) : undefined;
    return () => {
      clearTimeout(soon);
      clearTimeout(settled);
      clearInterval(poll);
      offJob();
      offChanged();
    };
  }, [bus, reload, pollMs]);
  return loaded;
}
