import type { PromptTemplate } from '@alter0/model-call';
import { fillTemplate } from '@alter0/model-call';

/** One remembered entry as the preamble lists it. */
export interface MemoryLine {
  id: string;
  content: string;
  /** Bound to the task the prompt is for (listed after the global ones). */
  task: boolean;
}

/** What a new session's first prompt was given: kept on the job, so the owner sees exactly what was sent. */
export interface MemoryUse {
  template: { id: string; version: string; hash: string };
  /** The entries placed, in order. */
  ids: string[];
  /** Entries left out by the cap, in order. */
  cut: string[];
  chars: number;
}

/**
 * The prompt of a new agent session with the owner's memory before the message: global entries first, then the
 * task's own, each one line, as many as fit in `maxChars` (whole entries only; what did not fit is reported as
 * cut). No entries: the message as it is, and null.
 */
export function withMemory(
  template: PromptTemplate,
  entries: readonly MemoryLine[],
  message: string,
  maxChars: number,
): { prompt: string; use: MemoryUse | null } {
  if (entries.length === 0) return { prompt: message, use: null };
  const ordered = [...entries.filter((e) => !e.task), ...entries.filter((e) => e.task)];
  const lines: string[] = [];
  const ids: string[] = [];
  const cut: string[] = [];
  let used = 0;
  for (const e of ordered) {
    const line = `- ${e.task ? '(this task) ' : ''}${e.content.replace(/\s*\n\s*/g, ' ').trim()}`;
    if (used + line.length + 1 > maxChars) {
      cut.push(e.id);
      continue;
    }
    lines.push(line);
    ids.push(e.id);
    used += line.length + 1;
  }
  if (lines.length === 0) return { prompt: message, use: null };
  const prompt = fillTemplate(template.text, { entries: lines.join('\n'), message });
  return {
    prompt,
    use: { template: { id: template.id, version: template.version, hash: template.hash }, ids, cut, chars: used },
  };
}
