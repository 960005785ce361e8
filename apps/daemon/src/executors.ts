import type { ErrorClass, ExecutorKind, Executor, ExecutorProbe } from '@alter0/core';
import {
  WarmJudge,
  configuredExecutors,
  createExecutor,
  executorConfigFor,
  judgeConfigFor,
  killJobProcesses,
} from '@alter0/executor';
import type { ExecutorDeps, ProcessGroups, Spawner } from '@alter0/executor';
import type { Config } from '@alter0/config';

/** The executors this configuration uses (the default one, and the router's and closer's), by kind. */
export class ExecutorRegistry {
  private readonly byKind = new Map<ExecutorKind, Executor>();
  readonly probes = new Map<ExecutorKind, ExecutorProbe>();
  readonly consecutiveFailures = new Map<ExecutorKind, number>();
  readonly lastErrorClass = new Map<ExecutorKind, ErrorClass | null>();
  private readonly deps: ExecutorDeps;
  /** Pre-spawned judges (router.prespawn): stopped at close. */
  private readonly warm: WarmJudge[] = [];
  private closing: Promise<void> | null = null;

  /**
   * `groups`: every agent process group alive, across executors (the backstop kill at exit). `spawner`: starts
   * every agent from its helper process, off this event loop (null: node's spawn here). `secrets`: the redactor for
   * what runs hand back, and values no agent inherits (the API token).
   */
  constructor(
    private readonly config: Config,
    readonly groups: ProcessGroups,
    private readonly spawner: Spawner | null,
    private readonly overrides: Partial<Record<ExecutorKind, Executor>> = {},
    secrets: Pick<ExecutorDeps, 'redact' | 'secretValues'> = {},
  ) {
    const deps: ExecutorDeps = (this.deps = {
      groups: this.groups,
      ...secrets,
      ...(spawner === null ? {} : { spawn: spawner.spawn }),
    });
    for (const kind of configuredExecutors(config)) {
      this.byKind.set(kind, overrides[kind] ?? createExecutor(executorConfigFor(config, kind), deps));
    }
  }

  /**
   * The executor of the router's (`route`) or closer's (`close`) calls: the stage's executor kind with the stage's
   * own model and args (`router.model` …) when set, and for claude's router with `router.prespawn` a pre-spawned
   * process (WarmJudge). Without either, the kind's own executor. Call once per stage.
   */
  judge(stage: 'route' | 'close', onFallback?: (reason: string) => void): Executor {
    const own = stage === 'route' ? this.config.router : this.config.closer;
    const kind = own.executor;
    if (this.overrides[kind] !== undefined) return this.get(kind);
    const settings = judgeConfigFor(this.config, stage);
    if (settings.kind === 'claude' && stage === 'route' && this.config.router.prespawn) {
      const w = new WarmJudge(settings, this.deps, { stage, ...(onFallback ? { onFallback } : {}) });
      this.warm.push(w);
      return w.executor;
    }
    if (own.model === '' && own.args === undefined) return this.get(kind);
    return createExecutor(settings, this.deps);
  }

  /**
   * Kills the pre-spawned judges and ends the spawner's helper process; at stop, once the agents are killed (it
   * would kill what is left too).
   */
  close(): Promise<void> {
    // Once: a stop closes it, and so does the cleanup of a start that failed.
    this.closing ??= (async () => {
      await Promise.all(this.warm.map((w) => w.stop()));
      await this.spawner?.close();
    })();
    return this.closing;
  }

  /**
   * SIGKILLs what still carries job `jobId` in its environment (invariant 8), sparing this process and its
   * ancestors; resolves how many. Through the spawner's helper, off this event loop, when it runs
   * (`Spawner.sweepJob`: with no helper running it sweeps here); here without a spawner. Rejects (ExecutorError)
   * when the helper fails the sweep, exits before answering, or `signal` aborts first.
   */
  sweepJob(jobId: string, signal?: AbortSignal): Promise<number> {
    if (this.spawner === null) return Promise.resolve(killJobProcesses(jobId));
    return this.spawner.sweepJob(jobId, signal === undefined ? {} : { signal });
  }

  kinds(): ExecutorKind[] {
    return [...this.byKind.keys()];
  }

  get(kind: ExecutorKind): Executor {
    const e = this.byKind.get(kind);
    if (!e) {
      throw new Error(`executor "${kind}" is not configured; set executor.default (or router/closer.executor) to it`);
    }
    return e;
  }

  async probeAll(signal: AbortSignal): Promise<ExecutorProbe[]> {
    const out = await Promise.all(
      this.kinds().map(async (k) => {
        const p = await this.get(k).probe(signal);
        this.probes.set(k, p);
        return p;
      }),
    );
    return out;
  }

  recordSuccess(kind: ExecutorKind): void {
    this.consecutiveFailures.set(kind, 0);
  }

  recordFailure(kind: ExecutorKind, errorClass: ErrorClass): void {
    this.consecutiveFailures.set(kind, (this.consecutiveFailures.get(kind) ?? 0) + 1);
    this.lastErrorClass.set(kind, errorClass);
  }
}
