import { defineProject } from 'vitest/config';

// These tests run the real `alter0 serve` as a child process: give them room, and run files one at a time so
// concurrent daemons do not compete for the two cores and skew timeouts. A test that starts the daemon twice and
// runs a few CLI commands makes a dozen cold Node starts, each several seconds on a loaded two-core machine; the
// waits inside the tests are bounded on their own (harness.ts) and fail first, with a message.
export default defineProject({
  test: {
    name: '@alter0/cli',
    testTimeout: 120_000,
    hookTimeout: 30_000,
    fileParallelism: false,
  },
});
