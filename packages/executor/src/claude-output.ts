import * as v from 'valibot';
import type { ExecUsage } from '@alter0/core';

/**
 * The single result object `claude -p --output-format json` prints (checked against
 * @anthropic-ai/claude-code 2.1.332; samples in test/fixtures/claude). Only the fields alter0
 * uses are declared; the CLI adds fields often, so unknown ones are allowed.
 */
const ClaudeResultSchema = v.looseObject({
  type: v.literal('result'),
  subtype: v.string(),
  is_error: v.boolean(),
  result: v.optional(v.string()),
  session_id: v.optional(v.string()),
  total_cost_usd: v.optional(v.number()),
  api_error_status: v.nullish(v.number()),
  api_error_type: v.nullish(v.string()),
  /** Tool uses refused during the run (its permission mode, or the permission-prompt tool's deny). */
  permission_denials: v.optional(
    v.array(v.looseObject({ tool_name: v.string(), tool_input: v.optional(v.unknown()) })),
  ),
  usage: v.optional(
    v.looseObject({
      input_tokens: v.optional(v.number()),
      output_tokens: v.optional(v.number()),
      cache_read_input_tokens: v.optional(v.number()),
    }),
  ),
});

export type ClaudeResult = v.InferOutput<typeof ClaudeResultSchema>;

export type ClaudeParse = { ok: true; result: ClaudeResult } | { ok: false; reason: string };

/** Parse claude's stdout: the whole of it, or else its last non-empty line (in case a banner precedes it). */
export function parseClaudeOutput(stdout: string): ClaudeParse {
  const trimmed = stdout.trim();
  if (trimmed === '') return { ok: false, reason: 'stdout was empty' };
  const lines = trimmed.split('\n');
  const candidates = lines.length > 1 ? [trimmed, lines[lines.length - 1] ?? ''] : [trimmed];
  let reason = '';
  for (const text of candidates) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      reason = `stdout is not JSON (${err instanceof Error ? err.message : String(err)})`;
      continue;
    }
    const parsed = v.safeParse(ClaudeResultSchema, json);
    if (parsed.success) return { ok: true, result: parsed.output };
    reason = `stdout JSON is not a result object: ${parsed.issues
      .slice(0, 3)
      .map((i) => `${v.getDotPath(i) ?? '(root)'}: ${i.message}`)
      .join('; ')}`;
  }
  return { ok: false, reason };
}

/** The run's refused tool uses, as claude reported them (undefined when it reported none). */
export function claudeDenials(r: ClaudeResult): { tool: string; input: unknown }[] | undefined {
  const d = r.permission_denials;
  return d && d.length > 0 ? d.map((x) => ({ tool: x.tool_name, input: x.tool_input ?? null })) : undefined;
}

/** A successful answer: not flagged as an error, subtype "success", with reply text. */
export function claudeReply(r: ClaudeResult): string | null {
  if (r.is_error || r.subtype !== 'success' || r.result === undefined) return null;
  return r.result;
}

export function claudeUsage(r: ClaudeResult): ExecUsage | null {
  const usage: ExecUsage = {};
  if (r.usage?.input_tokens !== undefined) usage.inputTokens = r.usage.input_tokens;
  if (r.usage?.output_tokens !== undefined) usage.outputTokens = r.usage.output_tokens;
  if (r.usage?.cache_read_input_tokens !== undefined) usage.cacheReadTokens = r.usage.cache_read_input_tokens;
  if (r.total_cost_usd !== undefined) usage.costUsd = r.total_cost_usd;
  return Object.keys(usage).length === 0 ? null : usage;
}
