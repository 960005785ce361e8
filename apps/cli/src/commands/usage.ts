import type { UsageReport, UsageTotals } from '@alter0/api';
import { table } from '../format.js';
import { output } from '../output.js';
import type { UsageArgs } from '../descriptors/usage.js';
import { clientFor } from './client.js';

/** Dollars to 4 decimals; "n/a" where no job reported a cost (the command executor, codex). */
function cost(v: number | null): string {
  return v === null ? 'n/a' : `$${v.toFixed(4)}`;
}

function figures(t: UsageTotals): Record<string, string> {
  return {
    jobs: String(t.jobs),
    'tokens in': String(t.input_tokens),
    'tokens out': String(t.output_tokens),
    cost: cost(t.cost_usd),
  };
}

function usageText(r: UsageReport): string {
  const first = r.by === 'day' ? 'day' : 'task';
  const rows = r.rows.map((row) => ({
    [first]: row.key ?? '(no task)',
    ...(r.by === 'task' ? { title: row.title } : {}),
    ...figures(row),
  }));
  const columns = [first, ...(r.by === 'task' ? ['title'] : []), 'jobs', 'tokens in', 'tokens out', 'cost'];
  const t = r.total;
  const partial =
    t.cost_usd !== null && t.jobs_with_cost < t.jobs ? ` (${t.jobs_with_cost} of ${t.jobs} jobs reported a cost)` : '';
  return [
    `usage of the jobs that ended since ${r.since}`,
    table(rows, columns),
    `total: ${t.jobs} job${t.jobs === 1 ? '' : 's'}, ${t.input_tokens} tokens in, ${t.output_tokens} tokens out, cost ${cost(t.cost_usd)}${partial}`,
  ].join('\n');
}

export async function usage(a: UsageArgs): Promise<void> {
  const r = await clientFor(a).usage({ since: a.since, by: a.by, ...(a.limit ? { limit: a.limit } : {}) });
  if (a.json) return output.json(r);
  output.text(usageText(r));
}
