import type { PromptTemplate, PromptTemplateInfo, RenderedPrompt } from '@alter0/model-call';
import { clip, collapseWhitespace, fillTemplate } from '@alter0/model-call';
import type { CandidateTask } from './rank.js';

/** Per-field caps: the router needs the gist of each task, never whole transcripts. */
export const ROUTE_PROMPT_LIMITS = {
  titleChars: 120,
  summaryChars: 400,
  recentLines: 3,
  recentLineChars: 200,
  closeReasonChars: 160,
  messageChars: 4000,
} as const;

/** Router template versions written before closed tasks were offered: they see open tasks only. */
const OPEN_ONLY_VERSIONS: ReadonlySet<string> = new Set(['v1']);

/**
 * Whether a router template knows recently closed candidates (marked closed, with its rule on when to reopen
 * one). router/v1 does not: it is offered open tasks only, exactly as before closed ones were candidates.
 */
export function offersClosedTasks(template: Pick<PromptTemplateInfo, 'version'>): boolean {
  return !OPEN_ONLY_VERSIONS.has(template.version);
}

/** ` [closed 2026-11-30: why]` after a closed candidate's id; nothing for an open one. */
function closedMark(t: CandidateTask): string {
  if (t.closed === undefined) return '';
  const reason = clip(collapseWhitespace(t.closed.reason), ROUTE_PROMPT_LIMITS.closeReasonChars);
  const day = Number.isNaN(t.closed.at.getTime()) ? '?' : t.closed.at.toISOString().slice(0, 10);
  return ` [closed ${day}${reason === '' ? '' : `: ${reason}`}]`;
}

function renderCandidate(t: CandidateTask, index: number): string {
  const L = ROUTE_PROMPT_LIMITS;
  const lines = [
    `${index + 1}. task_id: ${t.id}${closedMark(t)}`,
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
