export { withMemory } from './preamble.js';
export type { MemoryLine, MemoryUse } from './preamble.js';
export { listMemoryTemplates, loadMemoryTemplate } from './templates-memory.js';
