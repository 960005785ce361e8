import type { Approval, Job, Task } from '@alter0/api';

type Listener<T> = (value: T) => void;

/** Fan-out of live `job` / `task` / `approval` events (and of schedule changes made here) to whichever views are mounted. */
export class LiveBus {
  private readonly jobListeners = new Set<Listener<Job>>();
  private readonly taskListeners = new Set<Listener<Task>>();
  private readonly approvalListeners = new Set<Listener<Approval>>();
  private readonly scheduleListeners = new Set<Listener<void>>();

  onJob(fn: Listener<Job>): () => void {
    this.jobListeners.add(fn);
    return () => this.jobListeners.delete(fn);
  }

  onTask(fn: Listener<Task>): () => void {
    this.taskListeners.add(fn);
    return () => this.taskListeners.delete(fn);
  }

  onApproval(fn: Listener<Approval>): () => void {
    this.approvalListeners.add(fn);
    return () => this.approvalListeners.delete(fn);
  }

  /** The daemon sends no schedule event: a change made in this console is told to the other views this way. */
  onSchedulesChanged(fn: Listener<void>): () => void {
    this.scheduleListeners.add(fn);
    return () => this.scheduleListeners.delete(fn);
  }

  emitJob(job: Job): void {
    for (const fn of this.jobListeners) fn(job);
  }

  emitTask(task: Task): void {
    for (const fn of this.taskListeners) fn(task);
  }

  emitApproval(approval: Approval): void {
    for (const fn of this.approvalListeners) fn(approval);
  }

  emitSchedulesChanged(): void {
    for (const fn of this.scheduleListeners) fn();
  }
}
