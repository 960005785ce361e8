import { defineProject } from 'vitest/config';

// These tests run the real `alter0 serve` as a child process: give them room, and run files one at a time so
// concurrent daemons do not compete for the two cores and skew timeouts.
export default defineProject({
  test: {
    name: '@alter0/cli',
    testTimeout: 60_000,
    hookTimeout: 30_000,
    fileParallelism: false,
  },
});
