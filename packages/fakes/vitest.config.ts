import { defineProject } from 'vitest/config';

// The contract tests run the pinned claude/codex CLIs (and the real `alter0 serve`) as child processes: a cold
// start of either CLI takes seconds on a loaded two-core machine, so vitest's 5 s default is far too short.
// Files run alongside the other projects' (see apps/cli/vitest.config.ts).
export default defineProject({
  test: {
    name: '@alter0/fakes',
    testTimeout: 60_000,
    hookTimeout: 30_000,
  },
});
