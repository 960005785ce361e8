/**
 * V8 flags for the daemon's own Node process, never for the agents it runs (they are given on the daemon's command
 * line, which children do not inherit, never in NODE_OPTIONS, which they would).
 *
 * `--max-semi-space-size=1`: V8 sizes the young generation from the host's memory (128 MiB of semi-spaces on a
 * 24 GiB machine), and a daemon that allocates little keeps it all resident. 1 MiB semi-spaces take the idle RSS
 * from ~225 to ~95 MiB with the same throughput (docs/benchmarks.md, "A lean kernel").
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];

/** The daemon flags this Node was not started with; a flag the owner gave with another value is kept as given. */
export function missingDaemonFlags(execArgv: readonly string[]): string[] {
  const name = (f: string): string => f.split('=')[0] ?? f;
  const given = new Set(execArgv.map(name));
  return DAEMON_NODE_FLAGS.filter((f) => !given.has(name(f)));
}
