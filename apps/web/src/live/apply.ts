import type { JobState } from '@alter0/core';
import type { Job, Task, TaskFilter } from '@alter0/api';
import { newer } from './freshest.js';

export type JobFilter = JobState | 'all';
export const JOB_LIST_LIMIT = 100;

/** Client-side twin of the server's task filter, for tasks that arrive by live event. */
function taskMatches(task: Task, filter: TaskFilter, q: string): boolean {
  if (filter !== 'all' && task.state !== filter) return false;
  if (!q) return true;
  const needle = q.toLowerCase();
  return [task.id, task.title, task.summary ?? ''].some((s) => s.toLowerCase().includes(needle));
}

/** Applies a live task event to a list: update in place, add when it now matches, drop when it no longer does. */
export function applyTaskEvent(list: Task[], event: Task, filter: TaskFilter, q: string): Task[] {
  const task = newer(
    list.find((t) => t.id === event.id),
    event,
  );
  const rest = list.filter((t) => t.id !== task.id);
  const known = rest.length !== list.length;
  if (!taskMatches(task, filter, q)) return known ? rest : list;
  return [task, ...rest].sort((a, b) => b.updated_at.localeCompare(a.updated_at));
}

/** Applies a live job event: replace a known job in place (a job leaving the filter stays until refetch), put a new matching one on top. */
export function applyJobEvent(list: Job[], job: Job, filter: JobFilter): Job[] {
  const i = list.findIndex((j) => j.id === job.id);
  if (i >= 0) return list.map((j, k) => (k === i ? newer(j, job) : j));
  if (filter !== 'all' && job.state !== filter) return list;
  return [job, ...list].slice(0, JOB_LIST_LIMIT);
}
