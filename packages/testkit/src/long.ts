/**
 * ALTER0_LONG_TESTS=1 runs the long version of the crash loop (30 kills); by default it runs a short, bounded
 * version of the same checks (8 kills). `.ci/run` sets it in long mode (ALTER0_CI_REPEAT > 1).
 */
export function longTests(env: NodeJS.ProcessEnv = process.env): boolean {
  return env['ALTER0_LONG_TESTS'] === '1';
}
