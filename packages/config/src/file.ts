import fs from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import type { ConfigFileChoice } from './paths.js';
import type { Problems } from './problems.js';
import { trustProblem } from './trust.js';

/**
 * Reads and parses the config file: JSON when the name ends in .json, TOML otherwise. Problems are recorded, not
 * thrown. A file another user could have written is not read at all: it names the programs alter0 runs.
 */
export function readConfigFile(choice: ConfigFileChoice, problems: Problems): unknown {
  let text: string;
  try {
    const untrusted = trustProblem(choice.path, fs.statSync(choice.path), 'config file');
    if (untrusted !== null) {
      problems.add(choice.path, '', untrusted);
      return undefined;
    }
    text = fs.readFileSync(choice.path, 'utf8');
  } catch (err) {
    const code = err instanceof Error && 'code' in err ? String(err.code) : '';
    const why =
      code === 'ENOENT'
        ? `config file does not exist (named by ${choice.chosenBy}); create it or point ${choice.chosenBy} at an existing file`
        : `cannot read config file: ${err instanceof Error ? err.message : String(err)}`;
    problems.add(choice.path, '', why);
    return undefined;
  }
  try {
    return choice.path.toLowerCase().endsWith('.json') ? JSON.parse(text) : parseToml(text);
  } catch (err) {
    const kind = choice.path.toLowerCase().endsWith('.json') ? 'JSON' : 'TOML';
    problems.add(choice.path, '', `not valid ${kind}: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}
