import type { MessageRole } from '@alter0/core';
import type { PromptTemplate, RenderedPrompt } from '@alter0/model-call';
import { clip, clipMiddle, collapseWhitespace, fillTemplate } from '@alter0/model-call';

export interface CloseTask {
  id: string;
  title: string;
  summary: string;
  /** Messages before the last exchange, oldest first; only the last few are shown. */
  recent: { role: MessageRole; content: string }[];
}

/** Per-field caps; the ends of the last turn matter most ("shall I go on?" sits at the end). */
export const CLOSE_PROMPT_LIMITS = {
  titleChars: 120,
  summaryChars: 600,
  recentLines: 3,
  recentLineChars: 200,
  lastUserChars: 3000,
  lastAssistantChars: 6000,
} as const;

const unfence = (s: string): string => s.replaceAll('>>>', '> > >');

export function renderClosePrompt(
  template: PromptTemplate,
  input: { task: CloseTask; lastUser: string; lastAssistant: string },
): RenderedPrompt {
  const L = CLOSE_PROMPT_LIMITS;
  const { task } = input;
  const lines = [`title: ${clip(collapseWhitespace(task.title), L.titleChars) || '(untitled)'}`];
  const summary = clip(collapseWhitespace(task.summary), L.summaryChars);
  if (summary !== '') lines.push(`summary: ${summary}`);
  const recent = task.recent.slice(-L.recentLines);
  if (recent.length > 0) {
    lines.push('earlier lines:');
    for (const m of recent) lines.push(`- ${m.role}: ${clip(collapseWhitespace(m.content), L.recentLineChars)}`);
  }
  const text = fillTemplate(template.text, {
    task: lines.join('\n'),
    last_user: unfence(clipMiddle(input.lastUser, L.lastUserChars)),
    last_assistant: unfence(clipMiddle(input.lastAssistant, L.lastAssistantChars)),
  });
  return { text, chars: text.length };
}
