import type { PromptTemplate, PromptTemplateInfo } from '@alter0/model-call';
import { createTemplateStore } from '@alter0/model-call';

/** Resolved relative to this module, so it works from `src/` (tests) and from `dist/` (runtime). */
const store = createTemplateStore(new URL('../prompts/', import.meta.url), {
  closer: ['task', 'last_user', 'last_assistant'],
});

/** The prompt template `prompts/<id>/<version>.md` of this package; throws ConfigError when absent or unusable. */
export function loadTemplate(id: string, version: string): PromptTemplate {
  return store.loadTemplate(id, version);
}

export function listTemplates(): PromptTemplateInfo[] {
  return store.listTemplates();
}
