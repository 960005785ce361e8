import { defineProject } from 'vitest/config';

// Browser tests start the real daemon and Chromium: generous timeouts, and never in parallel
// with each other (2 shared cores).
export default defineProject({
  test: {
    name: '@alter0/web',
    include: ['test/**/*.test.ts'],
    testTimeout: 90_000,
    hookTimeout: 90_000,
    fileParallelism: false,
  },
});
