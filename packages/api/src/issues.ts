import * as v from 'valibot';

/** valibot issues as `{path, message}` (dot path of the field, '' for the whole value). */
export function issuesOf(issues: readonly v.BaseIssue<unknown>[]): { path: string; message: string }[] {
  return issues.map((i) => ({ path: v.getDotPath(i) ?? '', message: i.message }));
}
