import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect } from 'vitest';
import { ConfigError } from '@alter0/core';
import { loadConfig, type LoadConfigOptions } from '../src/load.js';

/**
 * A temporary directory with a HOME inside it, fresh for each test of the file that calls this, and the helpers
 * the config tests share: write a file there, load the config against it, or get the ConfigError it raises.
 */
export function configSandbox(prefix: string, defaultMode: number) {
  let dir = '';
  let home = '';
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    home = path.join(dir, 'home');
    fs.mkdirSync(home);
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const load = (opts: LoadConfigOptions) =>
    loadConfig({ cwd: dir, file: null, ...opts, env: { HOME: home, ...opts.env } });
  return {
    get dir(): string {
      return dir;
    },
    get home(): string {
      return home;
    },
    write(name: string, text: string, mode = defaultMode): string {
      const p = path.join(dir, name);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, text, { mode });
      fs.chmodSync(p, mode);
      return p;
    },
    /** Loads with an isolated environment (HOME in the temp dir). */
    load,
    /** The ConfigError message loading raises (fails the test when it loads). */
    errorOf(opts: LoadConfigOptions): string {
      try {
        load(opts);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as ConfigError).message;
      }
      throw new Error('expected loadConfig to throw');
    },
  };
}
