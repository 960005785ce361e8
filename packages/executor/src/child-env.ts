import type { ExecRequest } from '@alter0/core';

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
  env.ALTER0_JOB_ID = req.jobId ?? '';
  env.ALTER0_SESSION_ID = req.sessionId ?? '';
  return env;
}
