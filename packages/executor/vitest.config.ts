import { defineProject } from 'vitest/config';

// Most tests here start real processes (Node fixtures, process trees, the pinned agent CLIs): a cold Node start
// takes seconds on a loaded two-core machine, so vitest's 5 s default would fail them for the machine's sake.
// The waits inside the tests are bounded on their own, with messages that say what did not happen.
export default defineProject({
  test: {
    name: '@alter0/executor',
    testTimeout: 60_000,
    hookTimeout: 30_000,
  },
});
