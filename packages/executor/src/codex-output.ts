import * as v from 'valibot';
import type { ExecUsage } from '@alter0/core';

/*
 * Events of `codex exec --json` (checked against @openai/codex 0.169.0; samples in
 * test/fixtures/codex). One JSON object per line; alter0 reads only these and ignores the rest:
 *   {"type":"thread.started","thread_id":"…"}
 *   {"type":"item.completed","item":{"type":"agent_message","text":"…"}}
 *   {"type":"turn.completed","usage":{"input_tokens":…,"cached_input_tokens":…,"output_tokens":…}}
 *   {"type":"turn.failed","error":{"message":"…"}}
 *   {"type":"error","message":"…"}   (also used for transient "Reconnecting…" notices: not fatal alone)
 */
const ThreadStarted = v.looseObject({ type: v.literal('thread.started'), thread_id: v.string() });
const ItemCompleted = v.looseObject({
  type: v.literal('item.completed'),
  item: v.looseObject({ type: v.string(), text: v.optional(v.string()) }),
});
const TurnCompleted = v.looseObject({
  type: v.literal('turn.completed'),
  usage: v.optional(
    v.looseObject({
      input_tokens: v.optional(v.number()),
      cached_input_tokens: v.optional(v.number()),
      output_tokens: v.optional(v.number()),
    }),
  ),
});
const TurnFailed = v.looseObject({
  type: v.literal('turn.failed'),
  error: v.optional(v.looseObject({ message: v.optional(v.string()) })),
});
const ErrorEvent = v.looseObject({ type: v.literal('error'), message: v.optional(v.string()) });
const AnyEvent = v.looseObject({ type: v.string() });

/** Event types the parser reads; everything else is progress alter0 does not keep. */
const NEEDED_TYPES = new Set(['thread.started', 'turn.completed', 'turn.failed', 'error']);

/**
 * Whether a stdout line is worth keeping: the events above, agent messages, and anything that is
 * not a JSON event (kept so garbage is still reported). Command and file-change items can be large
 * and are dropped, so a long run's tool output does not use up the stdout cap.
 */
export function codexLineNeeded(line: string): boolean {
  const text = line.trim();
  if (text === '') return false;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return true;
  }
  if (!v.is(AnyEvent, json)) return true;
  if (NEEDED_TYPES.has(json.type)) return true;
  return v.is(ItemCompleted, json) && json.item.type === 'agent_message';
}

export interface CodexRun {
  /** Lines that parsed as JSON events. */
  events: number;
  /** Lines that did not. */
  garbage: number;
  threadId: string | null;
  /** The last agent message of the turn: the reply. */
  reply: string | null;
  turnCompleted: boolean;
  usage: ExecUsage | null;
  /** The turn.failed message, when the turn failed. */
  failure: string | null;
  /** The last `error` event's message (context for a failure; alone it is often a retry notice). */
  lastError: string | null;
}

export function parseCodexEvents(stdout: string): CodexRun {
  const run: CodexRun = {
    events: 0,
    garbage: 0,
    threadId: null,
    reply: null,
    turnCompleted: false,
    usage: null,
    failure: null,
    lastError: null,
  };
  for (const raw of stdout.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      run.garbage += 1;
      continue;
    }
    if (!v.is(AnyEvent, json)) {
      run.garbage += 1;
      continue;
    }
    run.events += 1;
    applyEvent(run, json);
  }
  return run;
}

function applyEvent(run: CodexRun, ev: unknown): void {
  if (v.is(ThreadStarted, ev)) {
    run.threadId = ev.thread_id;
  } else if (v.is(ItemCompleted, ev)) {
    if (ev.item.type === 'agent_message' && ev.item.text !== undefined) run.reply = ev.item.text;
  } else if (v.is(TurnCompleted, ev)) {
    run.turnCompleted = true;
    run.usage = codexUsage(ev.usage);
  } else if (v.is(TurnFailed, ev)) {
    run.failure = ev.error?.message ?? 'turn failed (no message)';
  } else if (v.is(ErrorEvent, ev)) {
    run.lastError = ev.message ?? null;
  }
}

/** Codex reports the thread's running totals here (a resumed turn includes earlier turns). */
function codexUsage(u: v.InferOutput<typeof TurnCompleted>['usage']): ExecUsage | null {
  if (u === undefined) return null;
  const usage: ExecUsage = {};
  if (u.input_tokens !== undefined) usage.inputTokens = u.input_tokens;
  if (u.output_tokens !== undefined) usage.outputTokens = u.output_tokens;
  if (u.cached_input_tokens !== undefined) usage.cacheReadTokens = u.cached_input_tokens;
  return Object.keys(usage).length === 0 ? null : usage;
}
