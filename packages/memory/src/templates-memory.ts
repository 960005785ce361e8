import type { PromptTemplate, PromptTemplateInfo } from '@alter0/model-call';
import { createTemplateStore } from '@alter0/model-call';

/** Resolved relative to this module, so it works from `src/` (tests) and from `dist/` (runtime). */
const store = createTemplateStore(new URL('../prompts/', import.meta.url), { memory: ['entries', 'message'] });

/** The memory preamble template `prompts/memory/<version>.md`; throws ConfigError when absent or unusable. */
export function loadMemoryTemplate(version: string): PromptTemplate {
  return store.loadTemplate('memory', version);
}

export function listMemoryTemplates(): PromptTemplateInfo[] {
  return store.listTemplates();
}
