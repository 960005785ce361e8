// @alter0/soak's public entry: the harness's pure pieces (fault plans, statistics, options, report template,
// expectations, agent discovery), for tests. The harness program itself is `@alter0/soak/main`.
export { currentMessage, decodePlan, encodePlan } from './plan.js';
export type { MessagePlan } from './plan.js';
export { afterWarmup, coveredMs, floorPerWindow, pooledSlopePerHour, slopePerHour, summarize } from './stats.js';
export type { Point } from './stats.js';
export { UsageError, parseDuration, parseFaults } from './options.js';
export { fillTemplate } from './report.js';
export { expectationOf } from './workload.js';
export { findAgents } from './procs.js';
export { Api, NoAnswerError } from './http.js';
export type { Answer } from './http.js';
