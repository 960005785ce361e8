import * as v from 'valibot';

/** valibot issues as one line: `path: message; path: message` (first few only). */
export function summarizeIssues(issues: readonly v.BaseIssue<unknown>[], max = 4): string {
  const parts = issues.slice(0, max).map((i) => `${v.getDotPath(i) ?? '(root)'}: ${i.message}`);
  if (issues.length > max) parts.push(`… ${issues.length - max} more`);
  return parts.join('; ');
}
