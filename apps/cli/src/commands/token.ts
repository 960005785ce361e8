import path from 'node:path';
import { setTopLevelString, splitListen, writeTokenFile } from '@alter0/config';
import type { LoadedConfig } from '@alter0/config';
import { isDataDirLocked } from '@alter0/store';
import { loadLocalConfig } from '../config-args.js';
import type { InitArgs } from '../descriptors/token.js';
import { output } from '../output.js';

/** What the config file should say: the token's name when it sits beside the file, else its absolute path. */
function configValue(configFile: string, tokenFile: string): string {
  return path.dirname(tokenFile) === path.dirname(configFile) ? path.basename(tokenFile) : tokenFile;
}

/**
 * Points token_file at `target` where the owner keeps settings: nothing to do when it already does; an
 * environment variable or flag that sets it is the owner's to change (said, not done); else the config file gets
 * the line (created when there is none), unless `printOnly`.
 */
function configure(loaded: LoadedConfig, target: string, printOnly: boolean): { note: string; done: boolean } {
  const current = loaded.config.token_file;
  const source = loaded.sources.token_file;
  if (current === target)
    return { note: `token_file already names it (${source?.detail ?? source?.source ?? 'config'})`, done: true };
  if (source !== undefined && (source.source === 'env' || source.source === 'flag')) {
    return {
      note: `token_file is set by ${source.detail ?? source.source} to ${current}; set it to ${target} there`,
      done: false,
    };
  }
  const configFile = loaded.file ?? path.join(loaded.config.data_dir, 'alter0.toml');
  const line = `token_file = ${JSON.stringify(configValue(configFile, target))}`;
  if (printOnly)
    return { note: `add this line at the top of ${configFile} (before any [section]): ${line}`, done: false };
  const how = setTopLevelString(configFile, 'token_file', configValue(configFile, target));
  return {
    note: `${line} ${how === 'created' ? 'written to the new file' : how === 'replaced' ? 'replaced in' : 'added to'} ${configFile}`,
    done: true,
  };
}

/** `alter0 token init`: a new token file, the config pointed at it, and what to do next. */
export function initToken(a: InitArgs): void {
  // The token rules are what this command satisfies: load without them (e.g. listen is already 0.0.0.0).
  const loaded = loadLocalConfig(a, { tokenRules: false });
  const { config } = loaded;
  const target =
    a.file !== undefined
      ? path.resolve(a.file)
      : config.token_file !== ''
        ? config.token_file
        : path.join(config.data_dir, 'token');
  writeTokenFile(target, { replace: a.force === true });
  const configured = configure(loaded, target, a['print-only'] === true);
  // Read back as the service will (once the config names the token): a mistake shows here, not at the next start.
  const check = loadLocalConfig(a, { tokenRules: configured.done });
  const { host, port } = splitListen(check.config.listen);
  const connectHost =
    host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  const running = isDataDirLocked(config.data_dir);
  const first = configured.done ? '' : 'change the config as said above, then ';
  const restart = running.locked
    ? `alter0 is running${running.pid === null ? '' : ` (pid ${running.pid})`}: restart it so it requires the token (systemctl --user restart alter0, or stop and start \`alter0 serve\`)`
    : 'start alter0 (`alter0 serve`, or systemctl --user start alter0): it will require the token';
  output.text(
    [
      `token: a new random API token is in ${target} (mode 0600; only you can read it)`,
      `config: ${configured.note}`,
      'next:',
      `  1. ${first}${restart}`,
      '  2. the alter0 CLI on this machine reads the token by itself; elsewhere set ALTER0_TOKEN (and ALTER0_URL)',
      `  3. scripts: curl -H "Authorization: Bearer $(cat ${target})" http://${connectHost}:${port}/api/status`,
      '  4. the web console asks for the token once per browser tab',
    ].join('\n'),
  );
}
