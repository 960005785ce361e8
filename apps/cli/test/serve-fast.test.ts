import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DAEMON_NODE_FLAGS, missingDaemonFlags } from '@alter0/core';
import { tempDir, untilText } from '@alter0/testkit';
import { parseServeArgs } from '../src/serve-fast.js';

const BIN = fileURLToPath(new URL('../bin/alter0.js', import.meta.url));

describe('serve without yargs', () => {
  it('parses the local flags from the same table as the full CLI, aliases and repeated --set included', () => {
    expect(
      parseServeArgs([
        '--data-dir',
        '/d',
        '--listen',
        '127.0.0.1:0',
        '--set',
        'a=1',
        '--set',
        'b=2',
        '--executor',
        'codex',
      ]),
    ).toEqual({ data: '/d', listen: '127.0.0.1:0', set: ['a=1', 'b=2'], executor: 'codex' });
    expect(parseServeArgs(['--print-config'])).toEqual({ 'print-config': true });
  });

  it('hands anything unusual to the full CLI: --help, an unknown flag, a value outside the choices, a positional', () => {
    for (const argv of [['--help'], ['--bogus'], ['--executor', 'gpt'], ['extra'], ['--listen']]) {
      expect(parseServeArgs(argv), argv.join(' ')).toBeNull();
    }
  });
});

describe("the daemon's own V8 flags", () => {
  const procs: ReturnType<typeof spawn>[] = [];
  afterEach(() => {
    for (const p of procs.splice(0)) p.kill('SIGKILL');
  });

  it('names only the flags not given, keeping a value the owner chose', () => {
    expect(missingDaemonFlags([])).toEqual([...DAEMON_NODE_FLAGS]);
    expect(missingDaemonFlags(['--max-semi-space-size=4'])).toEqual([]);
  });

  it('`alter0 serve` started without them re-executes itself with them, keeping its pid, and never puts them in NODE_OPTIONS', async () => {
    const data = tempDir('alter0-flags-');
    const p = spawn(
      process.execPath,
      [BIN, 'serve', '--data-dir', data, '--listen', '127.0.0.1:0', '--command', 'cat', '--set', 'log.file=false'],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } },
    );
    procs.push(p);
    let log = '';
    p.stderr?.on('data', (c: Buffer) => (log += c.toString()));
    await untilText(() => log, /"listening"/, { timeoutMs: 30_000, what: 'the listening line' });
    const pid = p.pid ?? -1;
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    expect(cmdline.slice(1, 1 + DAEMON_NODE_FLAGS.length)).toEqual([...DAEMON_NODE_FLAGS]);
    expect(cmdline).toContain(path.resolve(BIN));
    const environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8');
    expect(environ).not.toMatch(/NODE_OPTIONS=[^\0]*semi-space/);
    fs.rmSync(data, { recursive: true, force: true });
  });
});
