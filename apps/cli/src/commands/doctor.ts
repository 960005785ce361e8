import { ConfigError } from '@alter0/core';
import type { LoadedConfig } from '@alter0/config';
import { formatChecks, preflight, preflightExitCode } from '@alter0/maintenance';
import { loadLocalConfig } from '../config-args.js';
import type { DoctorArgs } from '../descriptors/doctor.js';
import { output } from '../output.js';

/** Probes of slow or hung agent CLIs must not hold the command forever. */
const DOCTOR_TIMEOUT_MS = 60_000;

/** `alter0 doctor`: the preflight checks, printed; the exit code says the worst. */
export async function doctor(args: DoctorArgs): Promise<void> {
  let loaded: LoadedConfig | null = null;
  let configError: unknown;
  try {
    loaded = loadLocalConfig(args);
  } catch (err) {
    // A bad config is what doctor is for: report it as a check (exit 78), do not crash on it.
    if (!(err instanceof ConfigError)) throw err;
    configError = err;
  }
  const results = await preflight({
    config: loaded?.config ?? null,
    configError,
    configFile: loaded?.file ?? null,
    checkExecutors: args.executors !== false,
    signal: AbortSignal.timeout(DOCTOR_TIMEOUT_MS),
  });
  // Executor probes quote the agent CLIs' own output.
  if (args.json) output.json({ checks: results });
  else output.text(formatChecks(results));
  process.exitCode = preflightExitCode(results);
}
