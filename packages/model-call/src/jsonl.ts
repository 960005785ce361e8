import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as v from 'valibot';
import { Alter0Error, errorMessage } from '@alter0/core';
import { summarizeIssues } from './issues.js';

export interface CaseProblem {
  /** `file:line` */
  where: string;
  message: string;
}

/** A regression set that cannot be used as-is; `problems` lists every bad line. */
export class CaseFileError extends Alter0Error {
  readonly problems: readonly CaseProblem[];
  constructor(problems: readonly CaseProblem[]) {
    const shown = problems.slice(0, 20).map((p) => `  ${p.where}: ${p.message}`);
    if (problems.length > 20) shown.push(`  … ${problems.length - 20} more`);
    super('bad_cases', `${problems.length} bad case line(s); fix or remove them:\n${shown.join('\n')}`);
    this.problems = problems;
  }
}

/** The `.jsonl` files `pathOrDir` names: the file itself, or every `*.jsonl` directly in the directory, sorted. */
export function caseFiles(pathOrDir: string): string[] {
  let isDir: boolean;
  try {
    isDir = statSync(pathOrDir).isDirectory();
  } catch (err) {
    throw new CaseFileError([{ where: pathOrDir, message: `cannot read: ${errorMessage(err)}` }]);
  }
  if (!isDir) return [pathOrDir];
  const files = readdirSync(pathOrDir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .map((f) => join(pathOrDir, f));
  if (files.length === 0) throw new CaseFileError([{ where: pathOrDir, message: 'directory holds no *.jsonl files' }]);
  return files;
}

/**
 * Reads JSON Lines cases validated by `schema` (unknown fields are dropped by valibot objects).
 * Blank lines are skipped; every bad line and every repeated `id` is collected, then thrown at once.
 */
export function loadJsonLines<S extends v.GenericSchema<unknown, { id: string }>>(
  pathOrDir: string,
  schema: S,
  check: (value: v.InferOutput<S>) => string | null = () => null,
): (v.InferOutput<S> & { source: string })[] {
  const out: (v.InferOutput<S> & { source: string })[] = [];
  const problems: CaseProblem[] = [];
  const seen = new Map<string, string>();
  for (const file of caseFiles(pathOrDir)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      problems.push({ where: file, message: `cannot read: ${errorMessage(err)}` });
      continue;
    }
    text.split('\n').forEach((line, i) => {
      const where = `${file}:${i + 1}`;
      if (line.trim() === '') return;
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch (err) {
        problems.push({ where, message: `not JSON: ${errorMessage(err)}` });
        return;
      }
      const parsed = v.safeParse(schema, json);
      if (!parsed.success) {
        problems.push({ where, message: summarizeIssues(parsed.issues) });
        return;
      }
      const invalid = check(parsed.output);
      if (invalid !== null) {
        problems.push({ where, message: invalid });
        return;
      }
      const first = seen.get(parsed.output.id);
      if (first !== undefined) {
        problems.push({ where, message: `case id ${parsed.output.id} already used at ${first}` });
        return;
      }
      seen.set(parsed.output.id, where);
      out.push({ ...parsed.output, source: where });
    });
  }
  if (problems.length > 0) throw new CaseFileError(problems);
  return out;
}
