import { useCallback, useEffect, useRef } from 'react';
import type { Approval, Job, Task } from '@alter0/api';
import { useApp } from '../app-context.js';
import { useLoad, type Loaded } from '../ui/use-load.js';
import { newer } from './freshest.js';

/** One job, fetched once and then kept current by live events. */
export function useLiveJob(id: string): Loaded<Job> {
  const { api, bus } = useApp();
  const load = useCallback((signal: AbortSignal) => api.getJob(id, { signal }), [api, id]);
  const loaded = useLoad(load, newer);
  const { setData } = loaded;
  useEffect(
    () =>
      bus.onJob((job) => {
        if (job.id === id) setData((prev) => newer(prev, job));
      }),
    [bus, id, setData],
  );
  return loaded;
}

/**
 * Calls `fn` when a live event concerns this task (the task, one of its jobs, an approval asked by one of them),
 * coalescing bursts (a job emits several events in quick succession) into one call.
 */
export function useTaskEvents(taskId: string, fn: () => void, delayMs = 150): void {
  const { bus } = useApp();
  const fnRef = useRef(fn);
  fnRef.current = fn;
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poke = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => fnRef.current(), delayMs);
    };
    const offJob = bus.onJob((j: Job) => {
      if (j.task_id === taskId) poke();
    });
    const offTask = bus.onTask((t: Task) => {
      if (t.id === taskId) poke();
    });
    // An approval asked or answered while its job keeps running: no job event says so.
    const offApproval = bus.onApproval((a: Approval) => {
      if (a.task_id === taskId) poke();
    });
    return () => {
      clearTimeout(timer);
      offJob();
      offTask();
      offApproval();
    };
  }, [bus, taskId, delayMs]);
}
