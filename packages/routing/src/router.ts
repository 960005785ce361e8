import type { ErrorClass, Executor, RouteDecisionKind, RouteFallback } from '@alter0/core';
import { ConfigError } from '@alter0/core';
import type { ModelCallResult, PromptTemplate } from '@alter0/model-call';
import { RAW_OUTPUT_MAX_BYTES, callModel, clip, truncateUtf8 } from '@alter0/model-call';
import { parseRouteOutput } from './parse-route.js';
import type { RouteRejectCode } from './parse-route.js';
import type { CandidateTask } from './rank.js';
import { rankCandidates } from './rank.js';
import { offersClosedTasks, renderRoutePrompt } from './render-route.js';
import { findExplicitTaskRefs } from './explicit.js';

export interface RouterOptions {
  executor: Executor;
  template: PromptTemplate;
  /** An `existing` answer below this confidence goes to a new task instead (default 0.55). */
  threshold: number;
  /** How many ranked candidates the model sees (default 8). */
  maxCandidates: number;
  timeoutMs: number;
  now?: () => Date;
}

export interface RouteInput {
  message: string;
  /** A task id the client named (API `task_id`); wins over everything. */
  explicitTaskId: string | null;
  /** The sender asked for a new task (Telegram's /new): no model is asked. */
  newTask?: boolean;
  /**
   * The candidates: the open tasks, and recently closed ones marked `closed` (choosing one reopens it). A template
   * that does not know closed tasks (router/v1) is offered the open ones only.
   */
  openTasks: readonly CandidateTask[];
  cwd: string;
  jobId: string | null;
  signal: AbortSignal;
}

export interface RouteOutcome {
  decision: RouteDecisionKind;
  /** null means: create a new task. */
  taskId: string | null;
  confidence: number | null;
  reason: string;
  fallback: RouteFallback | null;
  rejectCode: RouteRejectCode | null;
  candidates: { taskId: string; score: number }[];
  templateId: string;
  templateVersion: string;
  templateHash: string;
  promptChars: number;
  modelCalled: boolean;
  rawOutput: string | null;
  latencyMs: number;
  errorClass: ErrorClass | null;
}

/** The outcome fields every decision sets. */
type Decided = 'decision' | 'taskId' | 'confidence' | 'reason' | 'fallback';
/** One decision: the fields it must set, and whichever others (raw output, reject code, error class) it knows. */
type Decision = Pick<RouteOutcome, Decided> & Partial<Pick<RouteOutcome, 'rawOutput' | 'rejectCode' | 'errorClass'>>;

/** A failed or timed-out model call: a new task, with the failure recorded. */
function modelFailed(call: Extract<ModelCallResult, { ok: false }>): Decision {
  return {
    decision: 'new',
    taskId: null,
    confidence: null,
    reason: `router model failed (${call.errorClass}): ${clip(call.detail, 300)}; starting a new task`,
    fallback: call.fallback,
    errorClass: call.errorClass,
  };
}

export class Router {
  readonly #opts: RouterOptions;
  readonly #now: () => Date;

  constructor(opts: RouterOptions) {
    if (!(opts.threshold >= 0 && opts.threshold <= 1))
      throw new ConfigError(`router threshold ${opts.threshold} must be within 0..1`);
    if (!Number.isInteger(opts.maxCandidates) || opts.maxCandidates < 1) {
      throw new ConfigError(`router maxCandidates ${opts.maxCandidates} must be a positive integer`);
    }
    if (!(opts.timeoutMs > 0))
      throw new ConfigError(`router timeoutMs ${opts.timeoutMs} must be a positive number of milliseconds`);
    this.#opts = opts;
    this.#now = opts.now ?? (() => new Date());
  }

  /** Decides where a message goes. Never throws, except to rethrow an abort of `input.signal`. */
  async route(input: RouteInput): Promise<RouteOutcome> {
    input.signal.throwIfAborted();
    const started = performance.now();
    const elapsed = (): number => Math.round(performance.now() - started);
    const base = this.#baseOutcome();
    if (!offersClosedTasks(this.#opts.template))
      input = { ...input, openTasks: input.openTasks.filter((t) => t.closed === undefined) };
    const decided = this.#withoutModel(input);
    if (decided !== null) return { ...base, ...decided, latencyMs: elapsed() };

    const ranked = rankCandidates(input.message, input.openTasks, {
      now: this.#now(),
      limit: this.#opts.maxCandidates,
    });
    const prompt = renderRoutePrompt(this.#opts.template, { message: input.message, candidates: ranked });
    const offered = {
      ...base,
      candidates: ranked.map((c) => ({ taskId: c.id, score: c.score })),
      promptChars: prompt.chars,
      modelCalled: true,
    };
    const call = await callModel(
      this.#opts.executor,
      { stage: 'route', prompt: prompt.text, sessionId: null, taskId: null, jobId: input.jobId, cwd: input.cwd },
      this.#opts.timeoutMs,
      input.signal,
    );
    const decision = call.ok ? this.#fromReply(call.text, new Set(ranked.map((c) => c.id))) : modelFailed(call);
    return { ...offered, ...decision, latencyMs: elapsed() };
  }

  /** The fields every outcome starts from: the template used, and nothing offered or called yet. */
  #baseOutcome(): Omit<RouteOutcome, Decided | 'latencyMs'> {
    const { template } = this.#opts;
    return {
      templateId: template.id,
      templateVersion: template.version,
      templateHash: template.hash,
      promptChars: 0,
      modelCalled: false,
      rawOutput: null,
      rejectCode: null,
      errorClass: null,
      candidates: [],
    };
  }

  /** The decisions taken without asking the model: an explicit task, or nothing open to choose from. */
  #withoutModel(input: RouteInput): Decision | null {
    const explicit = this.#explicitTarget(input);
    if (explicit !== null) {
      return {
        decision: 'existing',
        taskId: explicit.taskId,
        confidence: null,
        reason: explicit.reason,
        fallback: 'explicit',
      };
    }
    if (input.newTask === true) {
      return {
        decision: 'new',
        taskId: null,
        confidence: null,
        reason: 'the sender asked for a new task',
        fallback: 'explicit',
      };
    }
    if (input.openTasks.length === 0) {
      return { decision: 'new', taskId: null, confidence: null, reason: 'no open tasks', fallback: 'no_candidates' };
    }
    return null;
  }

  /** The model's reply, validated against the offered candidates and held to the confidence threshold. */
  #fromReply(text: string, offered: ReadonlySet<string>): Decision {
    const rawOutput = truncateUtf8(text, RAW_OUTPUT_MAX_BYTES);
    const parsed = parseRouteOutput(text, offered);
    if (!parsed.ok) {
      return {
        rawOutput,
        decision: 'new',
        taskId: null,
        confidence: null,
        reason: `router output rejected (${parsed.code}): ${parsed.detail}; starting a new task`,
        fallback: 'invalid_output',
        rejectCode: parsed.code,
      };
    }
    const answer = parsed.value;
    if (answer.decision === 'existing' && answer.confidence < this.#opts.threshold) {
      return {
        rawOutput,
        decision: 'new',
        taskId: null,
        confidence: answer.confidence,
        reason: `model chose ${answer.taskId ?? '?'} with confidence ${answer.confidence} < ${this.#opts.threshold}: ${answer.reason}`,
        fallback: 'low_confidence',
      };
    }
    return {
      rawOutput,
      decision: answer.decision,
      taskId: answer.taskId,
      confidence: answer.confidence,
      reason: answer.reason,
      fallback: null,
    };
  }

  /**
   * The client's task id wins; else a `#t_…` mention, preferring one that names an open task.
   * A mention of a task that is not open is still explicit: the daemon decides (reopen or refuse).
   */
  #explicitTarget(input: RouteInput): { taskId: string; reason: string } | null {
    if (input.explicitTaskId !== null)
      return { taskId: input.explicitTaskId, reason: 'task id given with the message' };
    const refs = findExplicitTaskRefs(input.message);
    if (refs.length === 0) return null;
    const open = new Set(input.openTasks.filter((t) => t.closed === undefined).map((t) => t.id));
    const taskId = refs.find((r) => open.has(r)) ?? refs[0];
    if (taskId === undefined) return null;
    return { taskId, reason: `message mentions #${taskId}${open.has(taskId) ? '' : ' (not an open task)'}` };
  }
}
