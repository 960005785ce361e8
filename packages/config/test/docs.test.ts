import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { envNameFor, RESERVED_ENV_NAMES } from '../src/env.js';
import { loadConfig } from '../src/load.js';

const doc = fs.readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');

describe('docs/configuration.md', () => {
  const keys = Object.keys(loadConfig({ file: null, env: { HOME: '/h' }, cwd: '/' }).sources);

  it('documents every key with its environment variable', () => {
    expect(keys.length).toBeGreaterThan(40);
    const missing = keys.filter((k) => {
      const key = k === 'executor.env' ? 'executor.env.<NAME>' : k;
      const env = k === 'executor.env' ? 'ALTER0_EXECUTOR__ENV__<NAME>' : envNameFor(k);
      return !doc.includes(`| \`${key}\` |`) || !doc.includes(`\`${env}\``);
    });
    expect(missing).toEqual([]);
  });

  it('lists every ignored ALTER0_ variable', () => {
    expect(RESERVED_ENV_NAMES.filter((n) => !doc.includes(`\`${n}\``))).toEqual([]);
  });

  // Found running the test command in long mode: ALTER0_CI_REPEAT=3 reached every spawned `alter0 serve`,
  // which refused it as an unknown setting (exit 78), so every end-to-end test failed.
  it('every ALTER0_ variable used by the scripts and tests of the repository is a setting or ignored', () => {
    const root = new URL('../../../', import.meta.url);
    const names = new Set<string>();
    const walk = (dir: URL): void => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        if (['node_modules', 'dist', '.git', '.tools', 'coverage'].includes(e.name)) continue;
        const url = new URL(e.name + (e.isDirectory() ? '/' : ''), dir);
        // The config's own tests name wrong variables on purpose.
        if (url.href === new URL('packages/config/test/', root).href) continue;
        if (e.isDirectory()) walk(url);
        else if (/\.(ts|tsx|mjs|js|sh)$|^run$/.test(e.name)) {
          for (const m of fs.readFileSync(url, 'utf8').matchAll(/\bALTER0_[A-Z0-9_]*[A-Z0-9]\b/g)) names.add(m[0]);
        }
      }
    };
    for (const d of ['packages/', 'apps/', 'tooling/', '.ci/', 'deploy/'])
      if (fs.existsSync(new URL(d, root))) walk(new URL(d, root));
    const refused = [...names].filter((name) => {
      if (name.includes('__') || name === 'ALTER0_EXECUTOR') return false; // settings: checked by the config tests
      try {
        loadConfig({ file: null, env: { HOME: '/h', [name]: '1' }, cwd: '/' });
        return false;
      } catch (err) {
        return new RegExp(`${name}: [^\\n]*unknown key`).test(String(err));
      }
    });
    expect(names.size).toBeGreaterThan(10);
    expect(refused).toEqual([]);
  });
});
