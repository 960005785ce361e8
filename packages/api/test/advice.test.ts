import { describe, expect, it } from 'vitest';
import { ERROR_CLASS_ADVICE, componentAdvice } from '../src/index.js';

describe('componentAdvice', () => {
  it('says what ok means and has nothing to do, for every component', () => {
    for (const name of ['gateway', 'queue', 'executor', 'scheduler', 'storage', 'something_new']) {
      const a = componentAdvice(name, { state: 'ok', last_error: null, details: {} });
      expect(a.meaning).toMatch(/\S\.$/);
      expect(a.action).toBeNull();
    }
  });

  it('names the failing executor and gives the hint of its error class', () => {
    const a = componentAdvice('executor', {
      state: 'degraded',
      last_error: { message: 'claude: 3 consecutive failures (last: auth)' },
      details: {
        executors: [
          { kind: 'claude', state: 'degraded', probe_error: null, consecutive_failures: 3, last_error_class: 'auth' },
        ],
      },
    });
    expect(a.meaning).toBe("claude's last jobs failed one after another (auth).");
    expect(a.action).toBe('T' + ERROR_CLASS_ADVICE.auth.slice(1) + '.');
  });

  it('tells an executor that cannot start to be installed or pointed at', () => {
    const a = componentAdvice('executor', {
      state: 'degraded',
      last_error: { message: 'codex: spawn codex ENOENT' },
      details: { executors: [{ kind: 'codex', state: 'degraded', probe_error: 'spawn codex ENOENT' }] },
    });
    expect(a).toEqual({
      meaning: 'codex cannot be started, so its jobs fail.',
      action: 'Install the agent CLI, or set executor.codex.bin to its absolute path.',
    });
    const command = componentAdvice('executor', {
      state: 'degraded',
      details: { executors: [{ kind: 'command', state: 'degraded', probe_error: 'not found: /no/such/agent' }] },
    });
    expect(command.action).toContain('executor.command.argv');
  });

  it('tells a stuck queue from an outcome the database would not take', () => {
    expect(
      componentAdvice('queue', { state: 'degraded', last_error: { message: 'a job has waited 700s in the queue' } })
        .action,
    ).toContain('alter0 cancel <id>');
    expect(
      componentAdvice('queue', {
        state: 'degraded',
        last_error: { message: 'the outcome of job j_1 could not be written (SQLITE_BUSY)' },
      }).action,
    ).toContain('write lock');
  });

  it('points at the failing channel, the failing maintenance job and a full disk', () => {
    const webhook = componentAdvice('gateway', {
      state: 'degraded',
      last_error: { message: 'channel webhook is degraded: a notice could not be delivered' },
      details: {
        channels: [
          { name: 'http', state: 'ok' },
          { name: 'webhook', state: 'degraded' },
        ],
      },
    });
    expect(webhook.action).toMatch(/webhook receiver/);
    const telegram = componentAdvice('gateway', {
      state: 'degraded',
      last_error: { message: 'channel telegram is down: Telegram refused the bot token' },
    });
    expect(telegram.meaning).toBe('The telegram channel is failing; the other channels still work.');
    expect(telegram.action).toContain('@BotFather');
    const backup = componentAdvice('scheduler', {
      state: 'degraded',
      last_error: { message: 'backup: EACCES (2 in a row)' },
      details: {
        jobs: [
          { name: 'retention', consecutive_failures: 0 },
          { name: 'backup', consecutive_failures: 2 },
        ],
      },
    });
    expect(backup.meaning).toContain('backup job keeps failing');
    expect(backup.action).toContain('backup.dir');
    expect(componentAdvice('storage', { state: 'down' }).action).toMatch(/^Free disk space/);
  });

  it('gives an unknown component in trouble a generic line rather than nothing', () => {
    const a = componentAdvice('toString', { state: 'down', last_error: { message: 'x' } });
    expect(a.meaning).toBe('Not working.');
    expect(a.action).toContain('alter0 diagnose');
  });
});
