import type { ExecRequest } from '@alter0/core';

/** Carries the job id into every process of a run; it also finds a run's tools that left its process tree. */
export const JOB_ID_ENV = 'ALTER0_JOB_ID';

/**
 * The child's environment: inherited, then the executor's configured extras, then what alter0
 * tells every run about itself (these last so a config cannot fake them).
 */
export function childEnv(
  base: Readonly<Record<string, string | undefined>>,
  extra: Readonly<Record<string, string>> | undefined,
  req: Pick<ExecRequest, 'stage' | 'taskId' | 'jobId' | 'sessionId'>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v;
  Object.assign(env, extra ?? {});
  env.ALTER0_STAGE = req.stage;
  env.ALTER0_TASK_ID = req.taskId ?? '';
  env[JOB_ID_ENV] = req.jobId ?? '';
  env.ALTER0_SESSION_ID = req.sessionId ?? '';
  return env;
}
