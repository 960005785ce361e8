import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** `$XDG_DATA_HOME/alter0` when XDG_DATA_HOME is an absolute path (as the XDG spec requires), else `~/.local/share/alter0`. */
export function defaultDataDir(env: NodeJS.ProcessEnv): { path: string; how: string } {
  const xdg = env.XDG_DATA_HOME;
  if (xdg !== undefined && path.isAbsolute(xdg))
    return { path: path.join(xdg, 'alter0'), how: '$XDG_DATA_HOME/alter0' };
  return { path: path.join(env.HOME ?? os.homedir(), '.local', 'share', 'alter0'), how: '~/.local/share/alter0' };
}

export const DEFAULT_CONFIG_NAME = 'alter0.toml';

export interface ConfigFileChoice {
  path: string;
  /** Why this file: how an error names the setting that chose it. */
  chosenBy: string;
}

/**
 * Which config file to read: the caller's choice (null = none), else $ALTER0_CONFIG, else
 * `<data_dir>/alter0.toml` when it exists. A file that was asked for must exist; the implicit one may not.
 */
export function chooseConfigFile(
  explicit: string | null | undefined,
  env: NodeJS.ProcessEnv,
  dataDir: string,
  cwd: string,
): ConfigFileChoice | null {
  if (explicit === null) return null;
  if (explicit !== undefined) return { path: path.resolve(cwd, explicit), chosenBy: '--config' };
  const fromEnv = env.ALTER0_CONFIG;
  if (fromEnv !== undefined && fromEnv !== '') return { path: path.resolve(cwd, fromEnv), chosenBy: 'ALTER0_CONFIG' };
  const implicit = path.join(dataDir, DEFAULT_CONFIG_NAME);
  return fs.existsSync(implicit) ? { path: implicit, chosenBy: 'data_dir' } : null;
}
