import { defineProject } from 'vitest/config';

// The browser test starts the real daemon and Chromium: generous timeouts.
export default defineProject({
  test: {
    name: '@alter0/web',
    include: ['test/**/*.test.ts'],
    testTimeout: 90_000,
    hookTimeout: 90_000,
  },
});
