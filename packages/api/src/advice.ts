import type { ComponentState, ErrorClass } from '@alter0/core';

/**
 * What a component's state in the status document means, and what the owner can do about it: one source for
 * `alter0 diagnose` and the console's status page (docs/operations.md has the runbook behind these lines).
 */
export interface Advice {
  /** One line: what this state means for the owner. */
  meaning: string;
  /** What to do; null when there is nothing to do (the component is ok). */
  action: string | null;
}

/** A component as the status document has it; details are read only for the shapes this module knows. */
export interface ComponentReading {
  state: ComponentState;
  last_error?: { message: string } | null;
  details?: unknown;
}

/** What to do about each class of executor failure. */
export const ERROR_CLASS_ADVICE: Record<ErrorClass, string> = {
  auth: 'the agent CLI is not logged in or its key was refused: log in as the user the service runs as (`claude`, `codex login`) and retry the jobs',
  rate_limited:
    'the model provider is rate limiting: alter0 retries with backoff; lower queue.*_workers or wait for the quota to reset',
  unavailable:
    'the provider or the network is down or overloaded: alter0 retries; check connectivity from this machine',
  timeout:
    'jobs ran past queue.job_timeout_s (or the router/closer timeout): raise it for long work, or look for an agent that hangs',
  not_found: 'the agent CLI is not on the service PATH: install it or set executor.<kind>.bin to its absolute path',
  exit: 'the agent CLI exited with an error: read the stderr tail with `alter0 job <id>`',
  bad_output: 'the agent CLI printed output alter0 cannot parse: compare its version with docs/executors.md',
  canceled: 'canceled by the owner or by a shutdown: retry them if they are still wanted',
  internal: 'interrupted by a crash or an alter0 bug: see `alter0 logs --level error` and retry the jobs',
};

const LOGS = '`alter0 diagnose` and `alter0 logs --level warn --since 1h` say more';

type Rule = (c: ComponentReading) => Advice;

const RULES: Record<string, Rule> = {
  gateway: gatewayAdvice,
  queue: queueAdvice,
  executor: executorAdvice,
  scheduler: schedulerAdvice,
  storage: storageAdvice,
};

/** The meaning of `c`'s state and what to do about it; a component this module does not know gets a generic line. */
export function componentAdvice(name: string, c: ComponentReading): Advice {
  const rule = Object.hasOwn(RULES, name) ? RULES[name] : undefined;
  if (rule) return rule(c);
  if (c.state === 'ok') return { meaning: 'Working normally.', action: null };
  return {
    meaning: c.state === 'down' ? 'Not working.' : 'Working, with a problem.',
    action: `Read its last error; ${LOGS}.`,
  };
}

function record(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
function records(v: unknown): Record<string, unknown>[] {
  return Array.isArray(v) ? v.map(record) : [];
}
function message(c: ComponentReading): string {
  return c.last_error?.message ?? '';
}

function gatewayAdvice(c: ComponentReading): Advice {
  if (c.state === 'ok')
    return { meaning: 'Messages come in on every channel and job notices are delivered.', action: null };
  if (c.state === 'down')
    return {
      meaning: 'Not taking messages: alter0 is shutting down.',
      action: 'If it does not come back by itself, start it with `alter0 serve` or your service manager.',
    };
  const failing = records(record(c.details).channels).find((ch) => ch.state !== 'ok');
  const channel = typeof failing?.name === 'string' ? failing.name : (/^channel (\S+)/.exec(message(c))?.[1] ?? '');
  const meaning = `${channel ? `The ${channel} channel` : 'A channel'} is failing; the other channels still work.`;
  if (channel === 'telegram')
    return {
      meaning,
      action:
        'A revoked or wrong token: get one from @BotFather (/token) into telegram.token_file. Another program reading the bot: stop it. alter0 tries again by itself.',
    };
  if (channel === 'webhook')
    return {
      meaning: 'A job notice could not be delivered to a webhook; it waits and is tried again.',
      action: 'Make the webhook receiver answer (2xx); waiting notices go out by themselves.',
    };
  return { meaning, action: `It is retried by itself; ${LOGS}.` };
}

function queueAdvice(c: ComponentReading): Advice {
  if (c.state === 'ok') return { meaning: 'Jobs start as soon as a worker is free.', action: null };
  if (/could not be written/.test(message(c)))
    return {
      meaning: "A job's outcome could not be written to the database; the job shows running until it can.",
      action:
        'Find what holds the database write lock (`fuser alter0.db`, a sqlite3 shell, a long `alter0 db verify`) or free disk space; the outcome is written by itself then.',
    };
  return {
    meaning: 'A job has waited in the queue longer than status.queue_degraded_after.',
    action:
      'See what holds the workers (`alter0 jobs --state running`), cancel it (`alter0 cancel <id>`), or add workers (queue.interactive_workers, queue.background_workers).',
  };
}

function executorAdvice(c: ComponentReading): Advice {
  if (c.state === 'ok') return { meaning: 'The agent CLI is installed and its jobs succeed.', action: null };
  const bad = records(record(c.details).executors).find((e) => e.state !== 'ok');
  const kind = typeof bad?.kind === 'string' ? bad.kind : 'the agent';
  if (bad?.probe_error || /not found|ENOENT|no such file/i.test(message(c)))
    return {
      meaning: `${kind} cannot be started, so its jobs fail.`,
      action:
        kind === 'command'
          ? 'Check executor.command.argv (or --command): its program must exist and be executable by the service.'
          : `Install the agent CLI, or set executor.${bad ? kind : '<kind>'}.bin to its absolute path.`,
    };
  const cls =
    (typeof bad?.last_error_class === 'string' ? bad.last_error_class : '') || /\(last: (\w+)\)/.exec(message(c))?.[1];
  const hint = cls && Object.hasOwn(ERROR_CLASS_ADVICE, cls) ? ERROR_CLASS_ADVICE[cls as ErrorClass] : undefined;
  return {
    meaning: `${kind}'s last jobs failed one after another${cls ? ` (${cls})` : ''}.`,
    action: hint ? capitalize(hint) + '.' : `Read the failed jobs' errors (\`alter0 jobs --state failed\`); ${LOGS}.`,
  };
}

function schedulerAdvice(c: ComponentReading): Advice {
  if (c.state === 'ok')
    return { meaning: 'Maintenance (backups, retention, checkpoints) and your schedules run on time.', action: null };
  const failing = records(record(c.details).jobs).find(
    (j) => typeof j.consecutive_failures === 'number' && j.consecutive_failures > 0,
  );
  const job = typeof failing?.name === 'string' ? failing.name : (/^(\w+):/.exec(message(c))?.[1] ?? '');
  const meaning = `The ${job || 'maintenance'} job keeps failing; it is tried again at its next run.`;
  if (job === 'backup')
    return { meaning, action: 'Check that backup.dir exists, is writable by the service and has room.' };
  return { meaning, action: `Read its error; ${LOGS}.` };
}

function storageAdvice(c: ComponentReading): Advice {
  if (c.state === 'ok') return { meaning: 'The database is reachable and there is room on the disk.', action: null };
  if (/ is full: /.test(message(c)))
    return {
      meaning: 'The disk is full: new messages are refused (507 storage_full) and job outcomes wait to be written.',
      action:
        'Free space on the disk holding the data directory (old backups in backup.dir, other files); alter0 takes writes again by itself, no restart needed.',
    };
  if (c.state === 'down')
    return {
      meaning: 'The disk is almost full: writes (new jobs, replies) may fail.',
      action: 'Free disk space on the data directory now, or move backup.dir to another disk.',
    };
  return {
    meaning: 'Free disk space is low (under 500 MiB); under 50 MiB storage is down.',
    action: 'Free disk space on the data directory, or move backup.dir to another disk.',
  };
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
