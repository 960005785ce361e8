import { readTokenFile } from '@alter0/config';
import type { Config } from '@alter0/config';

/**
 * The token the CLI client sends: `ALTER0_TOKEN` when set (a client on another machine, a script), else the
 * configured token file (the service's own, when the CLI runs where it does), else none.
 */
export function clientToken(env: NodeJS.ProcessEnv, config: Pick<Config, 'token_file'>): string | null {
  const fromEnv = env.ALTER0_TOKEN?.trim();
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return config.token_file === '' ? null : readTokenFile(config.token_file);
}
