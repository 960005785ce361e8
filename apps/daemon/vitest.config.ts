import { defineProject } from 'vitest/config';

// In-process daemon pieces with real SQLite files, timers of a few seconds (a job deadline that must pass during
// the close stage) and child processes: vitest's 5 s default leaves no room for a loaded two-core machine. The
// model-based test sets its own, longer timeout.
export default defineProject({
  test: {
    name: '@alter0/daemon',
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
