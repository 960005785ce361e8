import { defineProject } from 'vitest/config';

// These tests run the real `alter0 serve` as a child process: give them room. Their files run alongside the other
// projects' (the root config's maxWorkers): a project with fileParallelism off would be queued behind every other
// file and run strictly alone, one file at a time, which took most of the test run. The waits inside the tests
// are bounded on their own (@alter0/testkit) and fail first, with a message.
export default defineProject({
  test: {
    name: '@alter0/cli',
    testTimeout: 120_000,
    hookTimeout: 30_000,
  },
});
