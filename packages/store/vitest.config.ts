import { defineProject } from 'vitest/config';

// Real SQLite files, and a lock test that starts a Node child (loading the native driver): vitest's 5 s default
// leaves no room for a loaded two-core machine.
export default defineProject({
  test: {
    name: '@alter0/store',
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
