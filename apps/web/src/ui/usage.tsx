import type { JobUsage, UsageTotals } from '@alter0/api';
import '../activity.css';
import { plural } from './format.js';

/** Tokens with the reader's digit grouping: "12,345". */
export function formatTokens(n: number): string {
  return Math.round(n).toLocaleString();
}

/** A cost in US dollars to 4 decimals, as `alter0 usage` prints it: "$0.0123"; null: none was reported. */
export function formatUsd(n: number | null | undefined, none = 'n/a'): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return none;
  return `$${n.toFixed(4)}`;
}

/**
 * A sum's cost in words: "$0.0123", "no cost reported", or, when only some of the jobs reported one (the sum is then
 * a lower bound), "at least $0.0123 (2 of 5 jobs reported a cost)".
 */
export function costText(u: Pick<UsageTotals, 'jobs' | 'cost_usd' | 'jobs_with_cost'>): string {
  if (u.cost_usd === null) return 'no cost reported';
  if (u.jobs_with_cost >= u.jobs) return formatUsd(u.cost_usd);
  return `at least ${formatUsd(u.cost_usd)} (${u.jobs_with_cost} of ${u.jobs} jobs reported a cost)`;
}

/** The task view's line: how many jobs, their tokens in and out, and their cost. */
export function TaskUsage({ usage }: { usage: UsageTotals }) {
  return (
    <p
      className="usage-line"
      data-jobs={usage.jobs}
      data-input-tokens={usage.input_tokens}
      data-output-tokens={usage.output_tokens}
      data-cost-usd={usage.cost_usd ?? undefined}
    >
      <span className="usage-label">Usage</span> {plural(usage.jobs, 'job')} · {formatTokens(usage.input_tokens)} tokens
      in · {formatTokens(usage.output_tokens)} tokens out · <span className="usage-cost">{costText(usage)}</span>
    </p>
  );
}

/** A job card's compact line of what its agent reported: tokens in and out (cache reads), cost; nothing if none. */
export function JobUsageLine({ usage }: { usage: JobUsage | null }) {
  if (!usage) return null;
  const { inputTokens, outputTokens, cacheReadTokens, costUsd } = usage;
  const parts: string[] = [];
  if (inputTokens !== undefined) parts.push(`${formatTokens(inputTokens)} in`);
  if (outputTokens !== undefined) parts.push(`${formatTokens(outputTokens)} out`);
  if (cacheReadTokens) parts.push(`${formatTokens(cacheReadTokens)} cache read`);
  if (parts.length === 0 && costUsd === undefined) return null;
  return (
    <p
      className="meta job-usage"
      data-input-tokens={inputTokens}
      data-output-tokens={outputTokens}
      data-cost-usd={costUsd}
    >
      {parts.length > 0 && <>tokens {parts.join(' · ')}</>}
      {parts.length > 0 && costUsd !== undefined && ' · '}
      {costUsd !== undefined && <span className="usage-cost">{formatUsd(costUsd)}</span>}
    </p>
  );
}
