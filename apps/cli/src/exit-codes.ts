import { ConfigError, LockHeldError, SchemaTooNewError } from '@alter0/core';

/** sysexits: 78 (EX_CONFIG) tells a supervisor not to restart-loop; systemd's RestartPreventExitStatus=78. */
export const EXIT = { ok: 0, failure: 1, usage: 64, unavailable: 69, tempfail: 75, config: 78 } as const;

export function exitCodeFor(err: unknown): number {
  if (err instanceof ConfigError || err instanceof SchemaTooNewError) return EXIT.config;
  if (err instanceof LockHeldError) return EXIT.tempfail;
  return EXIT.failure;
}
