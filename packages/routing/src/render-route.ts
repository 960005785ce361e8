import type { PromptTemplate, RenderedPrompt } from '@alter0/model-call';
import { clip, collapseWhitespace, fillTemplate } from '@alter0/model-call';
import type { CandidateTask } from './rank.js';

/** Per-field caps: the router needs the gist of each task, never whole transcripts. */
export const ROUTE_PROMPT_LIMITS = {
  titleChars: 120,
  summaryChars: 400,
  recentLines: 3,
  recentLineChars: 200,
  messageChars: 4000,
} as const;

function renderCandidate(t: CandidateTask, index: number): string {
  const L = ROUTE_PROMPT_LIMITS;
  const lines = [
    `${index + 1}. task_id: ${t.id}`,
    `   title: ${clip(collapseWhitespace(t.title), L.titleChars) || '(untitled)'}`,
  ];
  const summary = clip(collapseWhitespace(t.summary), L.summaryChars);
  if (summary !== '') lines.push(`   summary: ${summary}`);
  const recent = t.recent.slice(-L.recentLines);
  if (recent.length > 0) {
    lines.push('   last lines:');
    for (const m of recent) lines.push(`   - ${m.role}: ${clip(collapseWhitespace(m.content), L.recentLineChars)}`);
  }
  return lines.join('\n');
}

export function renderRoutePrompt(
  template: PromptTemplate,
  input: { message: string; candidates: readonly CandidateTask[] },
): RenderedPrompt {
  const message =
    input.message.length > ROUTE_PROMPT_LIMITS.messageChars
      ? `${input.message.slice(0, ROUTE_PROMPT_LIMITS.messageChars)}\n[… message truncated …]`
      : input.message;
  const text = fillTemplate(template.text, {
    candidates: input.candidates.map(renderCandidate).join('\n\n'),
    // A message cannot close the delimiter block early and pose as instructions.
    message: message.replaceAll('>>>', '> > >'),
  });
  return { text, chars: text.length };
}
