import type { CommandModule } from 'yargs';

/** The harness's flags, passed through as given (it validates them and documents the defaults). */
export const FLAGS: Record<string, string> = {
  duration: 'how long to generate load, e.g. 90s, 2h, 24h (required)',
  out: 'where to write the report (Markdown with a JSON summary block) (required)',
  samples: 'also write every resource sample to this CSV file',
  seed: 'workload and fault plan seed (default: random, written in the report)',
  rate: 'mean messages per second (default 0.5)',
  'kill-every': 'mean time between kill -9s of the daemon; 0 = never (default 1h)',
  data: 'data directory to use and keep (default: a temp dir, removed)',
  'job-timeout': 'job timeout; hangs last this long (default 30s)',
  long: 'mean execute time of the async long jobs (default 5s)',
  'max-attempts': 'queue.max_attempts (default 3)',
  faults:
    'fault rates per message, e.g. slow=0.1,hang=0.02,rate_limited=0.04,unavailable=0.04,auth=0.02,malformed_route=0.04,malformed_close=0.04',
  'sample-every': 'resource and invariant sampling interval (default 5s)',
  'drain-timeout': 'bound on the final wait for the queue to drain',
  workers: 'interactive,background workers (default 2,2)',
  warmup: "left out of each daemon lifetime's slopes (default 15m)",
  'min-slope-window': 'slopes are judged only over this much observation (default 2h)',
  'max-native-slope': 'growth bound of memory outside the V8 heaps (RSS less their committed size), MB/h (default 10)',
  'max-heap-slope': 'V8 heap growth bound, MB/h (default 5)',
  'max-fd-slope': 'open fd growth bound, per hour (default 5)',
  'max-queue-slope': 'queue depth growth bound, per hour (default 10)',
  'max-wal-slope': 'WAL growth bound, MB/h (default 8)',
  'max-rss': 'RSS bound, MB (default 512)',
  'max-fds': 'open fd bound (default 256)',
  'max-wal': 'WAL size bound, MB (default 64)',
  'max-db-kb-per-job': 'database growth bound per accepted job, KB (default 32)',
  json: 'also write the machine-readable report (JSON) to this file',
  profile:
    'day: a day compressed into --duration — every channel, approvals, schedules, hostile moments, then a storm of kill -9s (docs/soak.md); default classic',
  kills: 'day: kill -9s in the storm (default 1050 per 2 hours of --duration)',
  calm: 'day: share of the load before the storm, 0–0.9 (default 0.2)',
  moments: 'day: the hostile moments to run, comma-separated, or "none" (default all)',
};

export type SoakArgs = Record<string, unknown>;

export const soakCommand: CommandModule<object, SoakArgs> = {
  command: 'soak',
  describe:
    'soak and chaos test: run the real alter0 serve under a fault-injecting load with kill -9s, check invariants, write a report',
  builder: (y) => {
    let b = y;
    for (const [name, describe] of Object.entries(FLAGS)) b = b.option(name, { type: 'string', describe });
    return b
      .option('keep-data', { type: 'boolean', describe: 'keep the temp data directory' })
      .demandOption(['duration', 'out'])
      .example('alter0 soak --duration 24h --out soak-24h.md', 'the release soak')
      .example('alter0 soak --duration 75s --kill-every 10s --job-timeout 5s --out soak.md', 'a short one (CI)')
      .example('alter0 soak --profile day --duration 2h --out day.md --json day.json', 'a day in two hours (as root)');
  },
  handler: async (args) => (await import('../commands/soak.js')).soak(args),
};
