import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '@alter0/config';
import type { Config } from '@alter0/config';
import { configuredExecutors, executorConfigFor, judgeConfigFor } from '../src/executor-config.js';

function config(raw: Record<string, unknown>): Config {
  return v.parse(ConfigSchema, { data_dir: '/tmp/alter0-test', ...raw });
}

describe('executorConfigFor', () => {
  it('maps each kind to its own settings plus the shared process settings', () => {
    const c = config({
      executor: {
        kill_grace_ms: 1234,
        env: { A: '1' },
        claude: { bin: '/opt/claude', args: ['--x'], model: 'm' },
        command: { argv: ['echo', 'hi'] },
      },
    });
    expect(executorConfigFor(c, 'claude')).toMatchObject({
      kind: 'claude',
      bin: '/opt/claude',
      args: ['--x'],
      model: 'm',
      killGraceMs: 1234,
      env: { A: '1' },
    });
    expect(executorConfigFor(c, 'command')).toMatchObject({ kind: 'command', argv: ['echo', 'hi'], killGraceMs: 1234 });
    expect(executorConfigFor(c, 'codex')).toMatchObject({
      kind: 'codex',
      killGraceMs: 1234,
      maxStdoutBytes: c.executor.max_output_bytes,
    });
  });
});

describe('judgeConfigFor', () => {
  it("gives the router and closer their own model and args when set, else the executor's", () => {
    const executor = { claude: { model: 'opus', args: ['--x'] }, codex: { model: 'gpt-big', args: ['-c', 'a=1'] } };
    const same = config({ executor });
    expect(judgeConfigFor(same, 'route')).toMatchObject({ kind: 'claude', model: 'opus', args: ['--x'] });
    expect(judgeConfigFor(same, 'close')).toMatchObject({ kind: 'claude', model: 'opus', args: ['--x'] });
    const own = config({
      executor,
      router: { model: 'haiku', args: [] },
      closer: { executor: 'codex', model: 'gpt-mini' },
    });
    expect(judgeConfigFor(own, 'route')).toMatchObject({ kind: 'claude', model: 'haiku', args: [] });
    expect(judgeConfigFor(own, 'close')).toMatchObject({ kind: 'codex', model: 'gpt-mini', args: ['-c', 'a=1'] });
    expect(executorConfigFor(own, 'claude')).toMatchObject({ model: 'opus', args: ['--x'] });
  });
});

describe('configuredExecutors', () => {
  it("names the default, the router's and, only when the closer is enabled, the closer's executor once each", () => {
    const base = { executor: { default: 'claude' }, router: { executor: 'codex' }, closer: { executor: 'command' } };
    expect(configuredExecutors(config({ ...base, closer: { ...base.closer, enabled: true } })).sort()).toEqual([
      'claude',
      'codex',
      'command',
    ]);
    expect(configuredExecutors(config({ ...base, closer: { ...base.closer, enabled: false } })).sort()).toEqual([
      'claude',
      'codex',
    ]);
    expect(
      configuredExecutors(
        config({ executor: { default: 'claude' }, router: { executor: 'claude' }, closer: { enabled: false } }),
      ),
    ).toEqual(['claude']);
  });
});
