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
});
