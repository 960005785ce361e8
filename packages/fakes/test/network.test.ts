import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAnthropicFake } from '../src/anthropic.js';
import { reply } from '../src/behaviour.js';
import type { TempHome } from '../src/env.js';
import { claudeEnv, codexEnv, makeTempHome, writeCodexConfig } from '../src/env.js';
import { startOpenAIFake } from '../src/openai.js';
import { runCli } from '../src/run.js';
import type { ModelFake } from '../src/server.js';
import { cliOrSkip } from './helpers.js';

// The environments claudeEnv/codexEnv build must keep the CLIs off the network: strace records
// every socket address they connect or send to, and only the fake's loopback port may appear.
const STRACE = '/usr/bin/strace';
const hasStrace = existsSync(STRACE);
if (!hasStrace) {
  if (process.env['ALTER0_REQUIRE_TOOLS'] === '1') throw new Error('strace is missing: apt-get install strace');
  console.warn('skipping network test: strace is missing (apt-get install strace)');
}
const claude = cliOrSkip('claude');
const codex = cliOrSkip('codex');

/** Every inet address (ip:port) the traced processes connected or sent to. */
function inetTargets(trace: string): string[] {
  const out = new Set<string>();
  const re =
    /sa_family=AF_INET6?, sin6?_port=htons\((\d+)\),[^}]*?(?:inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)")/g;
  for (const m of trace.matchAll(re)) out.add(`${m[2] ?? m[3] ?? '?'}:${m[1] ?? '?'}`);
  return [...out].sort();
}

describe.skipIf(!hasStrace)('CLIs reach nothing but the fake', () => {
  let fake: ModelFake | null = null;
  let tmp: TempHome;
  beforeEach(async () => {
    tmp = await makeTempHome();
  });
  afterEach(async () => {
    await fake?.close();
    fake = null;
    await tmp.remove();
  });

  async function traced(program: string, args: string[], env: Record<string, string>): Promise<string[]> {
    const log = join(tmp.home, 'strace.txt');
    const r = await runCli({
      program: STRACE,
      args: ['-f', '-qq', '-e', 'trace=connect,sendto,sendmsg', '-o', log, program, ...args],
      env,
      cwd: tmp.workdir,
      stdin: 'hi',
      timeoutMs: 30_000,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    return inetTargets(await readFile(log, 'utf8'));
  }

  it.skipIf(claude === null)('claude: one loopback connection to the fake, no DNS', async () => {
    const f = await startAnthropicFake();
    fake = f;
    f.script([reply('OK')]);
    const targets = await traced(
      claude ?? '',
      ['-p', '--output-format', 'json'],
      claudeEnv({ baseUrl: f.url, home: tmp.home }),
    );
    expect(targets).toEqual([`127.0.0.1:${f.port}`]);
  });

  it.skipIf(codex === null)('codex: one loopback connection to the fake, no DNS (plugins off)', async () => {
    const f = await startOpenAIFake();
    fake = f;
    f.script([reply('OK')]);
    const env = codexEnv({ home: tmp.home });
    await writeCodexConfig(env['CODEX_HOME'] ?? '', { baseUrl: f.url });
    const targets = await traced(codex ?? '', ['exec', '--json', '--skip-git-repo-check', '-'], env);
    expect(targets).toEqual([`127.0.0.1:${f.port}`]);
  });
});
