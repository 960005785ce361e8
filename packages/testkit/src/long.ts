/**
 * ALTER0_LONG_TESTS=1 runs the long versions of the chaos loops (the crash loop's 30 kills, the 60 s soak); by
 * default they run short, bounded versions of the same checks. `.ci/run` sets it in long mode (ALTER0_CI_REPEAT > 1).
 */
export function longTests(env: NodeJS.ProcessEnv = process.env): boolean {
  return env['ALTER0_LONG_TESTS'] === '1';
}
