export * from './domain.js';
export * from './errors.js';
export * from './ids.js';
export * from './executor.js';
export * from './timers.js';
export * from './daemon-flags.js';
export * from './backoff.js';
