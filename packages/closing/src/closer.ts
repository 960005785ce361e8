import type { ErrorClass, Executor } from '@alter0/core';
import { ConfigError } from '@alter0/core';
import type { PromptTemplate } from '@alter0/model-call';
import { RAW_OUTPUT_MAX_BYTES, callModel, clip, truncateUtf8 } from '@alter0/model-call';
import type { CloseRejectCode } from './parse-close.js';
import { parseCloseOutput } from './parse-close.js';
import type { CloseTask } from './render-close.js';
import { renderClosePrompt } from './render-close.js';

export interface CloserOptions {
  executor: Executor;
  template: PromptTemplate;
  /** A close answer below this confidence keeps the task open (default 0.7). */
  threshold: number;
  timeoutMs: number;
}

export interface CloseInput {
  task: CloseTask;
  lastUser: string;
  lastAssistant: string;
  cwd: string;
  jobId: string | null;
  signal: AbortSignal;
  /** A tighter limit than the closer's own for this call (the job's remaining time); the smaller one wins. */
  timeoutMs?: number;
}

export type CloseFallback = 'low_confidence' | 'invalid_output' | 'executor_error' | 'timeout';

export interface CloseOutcome {
  /** True only for a valid answer to close with confidence >= threshold. */
  close: boolean;
  confidence: number | null;
  reason: string;
  fallback: CloseFallback | null;
  rejectCode: CloseRejectCode | null;
  templateId: string;
  templateVersion: string;
  templateHash: string;
  promptChars: number;
  modelCalled: true;
  rawOutput: string | null;
  latencyMs: number;
  errorClass: ErrorClass | null;
}

export class Closer {
  readonly #opts: CloserOptions;

  constructor(opts: CloserOptions) {
    if (!(opts.threshold >= 0 && opts.threshold <= 1))
      throw new ConfigError(`closer threshold ${opts.threshold} must be within 0..1`);
    if (!(opts.timeoutMs > 0))
      throw new ConfigError(`closer timeoutMs ${opts.timeoutMs} must be a positive number of milliseconds`);
    this.#opts = opts;
  }

  /** Judges whether the task is done. Never closes on failure; never throws except to rethrow an abort. */
  async judge(input: CloseInput): Promise<CloseOutcome> {
    input.signal.throwIfAborted();
    const started = performance.now();
    const { template, threshold } = this.#opts;
    const prompt = renderClosePrompt(template, input);
    const base = {
      templateId: template.id,
      templateVersion: template.version,
      templateHash: template.hash,
      promptChars: prompt.chars,
      modelCalled: true as const,
      rejectCode: null,
      errorClass: null,
      rawOutput: null,
    };
    const elapsed = (): number => Math.round(performance.now() - started);

    const call = await callModel(
      this.#opts.executor,
      {
        stage: 'close',
        prompt: prompt.text,
        sessionId: null,
        taskId: input.task.id,
        jobId: input.jobId,
        cwd: input.cwd,
      },
      Math.max(1, Math.min(this.#opts.timeoutMs, input.timeoutMs ?? Infinity)),
      input.signal,
    );
    if (!call.ok) {
      return {
        ...base,
        close: false,
        confidence: null,
        reason: `closer model failed (${call.errorClass}): ${clip(call.detail, 300)}; task stays open`,
        fallback: call.fallback,
        errorClass: call.errorClass,
        latencyMs: elapsed(),
      };
    }
    const rawOutput = truncateUtf8(call.text, RAW_OUTPUT_MAX_BYTES);
    const parsed = parseCloseOutput(call.text);
    if (!parsed.ok) {
      return {
        ...base,
        rawOutput,
        close: false,
        confidence: null,
        reason: `closer output rejected (${parsed.code}): ${parsed.detail}; task stays open`,
        fallback: 'invalid_output',
        rejectCode: parsed.code,
        latencyMs: elapsed(),
      };
    }
    const answer = parsed.value;
    if (answer.close && answer.confidence < threshold) {
      return {
        ...base,
        rawOutput,
        close: false,
        confidence: answer.confidence,
        reason: `model would close with confidence ${answer.confidence} < ${threshold}: ${answer.reason}`,
        fallback: 'low_confidence',
        latencyMs: elapsed(),
      };
    }
    return {
      ...base,
      rawOutput,
      close: answer.close,
      confidence: answer.confidence,
      reason: answer.reason,
      fallback: null,
      latencyMs: elapsed(),
    };
  }
}
