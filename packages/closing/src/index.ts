export { loadTemplate, listTemplates } from './templates-closer.js';
export type { CloseAnswer, CloseParse, CloseRejectCode } from './parse-close.js';
export { parseCloseOutput, CLOSE_REJECT_CODES } from './parse-close.js';
export type { CloseTask } from './render-close.js';
export { renderClosePrompt, CLOSE_PROMPT_LIMITS } from './render-close.js';
export type { CloseFallback, CloseInput, CloseOutcome, CloserOptions } from './closer.js';
export { Closer } from './closer.js';
export type { CloseCase, CloseCaseResult, CloseEvalReport, EvaluateClosingOptions } from './eval.js';
export { evaluateClosing, loadCloseCases } from './eval.js';
export { summarize, titleFrom } from './summarize.js';
// Re-exported from @alter0/model-call so eval callers need one import.
export { replayExecutor, CaseFileError } from '@alter0/model-call';
export type { PromptTemplate, PromptTemplateInfo } from '@alter0/model-call';
