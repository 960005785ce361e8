import { defineProject } from 'vitest/config';

// Real SQLite files, worker threads and child processes: allow for a loaded two-core machine.
export default defineProject({
  test: {
    name: '@alter0/maintenance',
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
