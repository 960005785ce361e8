// What asking the owner costs a claude run that never asks: the same `claude -p` call (the real pinned CLI
// against the Anthropic fake), plain and with alter0's approval MCP server attached (--mcp-config and
// --permission-prompt-tool, as the claude executor adds them), alternated --runs times.
//
//   node tooling/bench/approval-bench.ts [--runs 7] [--json]
//
//   plain_p50_ms / mcp_p50_ms   wall time of one call, median
//   mcp_over_plain_ms           the difference of the medians (claude waits for the server before it starts)
// Loopback only; bounded by --max-minutes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { claudeEnv, cliPath, makeTempHome, reply, runCli, startAnthropicFake } from '@alter0/fakes';
import { ROOT, machine, printReport, runDeadline } from './lib.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    'max-minutes': { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
  },
});
const claude = cliPath('claude');
if (claude === null) throw new Error('the pinned claude CLI is missing: run ./tooling/setup.sh');
const signal = runDeadline(Number(values['max-minutes']));
const fake = await startAnthropicFake();
const tmp = await makeTempHome('alter0-approval-bench-');
const config = path.join(tmp.home, 'mcp.json');
const server = { command: process.execPath, args: [path.join(ROOT, 'apps/cli/bin/alter0.js'), 'mcp-approvals'] };
// A server that is started and answers the handshake; nothing asks it here.
const env = { ALTER0_URL: 'http://127.0.0.1:9', ALTER0_APPROVAL_TOKEN: 'unused', ALTER0_JOB_ID: 'j_unused' };
fs.writeFileSync(config, JSON.stringify({ mcpServers: { alter0: { type: 'stdio', ...server, env } } }), {
  mode: 0o600,
});
const times: Record<'plain' | 'mcp', number[]> = { plain: [], mcp: [] };
try {
  for (let i = 0; i < Number(values.runs); i++) {
    for (const kind of ['plain', 'mcp'] as const) {
      signal.throwIfAborted();
      fake.script([reply('ok')]);
      const extra = kind === 'mcp' ? ['--mcp-config', config, '--permission-prompt-tool', 'mcp__alter0__approve'] : [];
      const started = performance.now();
      const r = await runCli({
        program: claude,
        args: ['-p', '--output-format', 'json', '--permission-mode', 'acceptEdits', ...extra],
        env: claudeEnv({ baseUrl: fake.url, home: tmp.home }),
        cwd: tmp.workdir,
        stdin: 'hi',
        timeoutMs: 60_000,
        killGraceMs: 1_000,
      });
      if (r.exitCode !== 0) throw new Error(`claude failed (${kind}): ${r.stderr.slice(0, 500)}`);
      times[kind].push(performance.now() - started);
    }
  }
} finally {
  await fake.close();
  await tmp.remove();
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
printReport(
  'approval',
  {
    ...machine(),
    load: os.loadavg()[0]?.toFixed(2) ?? '',
    runs: Number(values.runs),
    plain_p50_ms: Math.round(median(times.plain)),
    mcp_p50_ms: Math.round(median(times.mcp)),
    mcp_over_plain_ms: Math.round(median(times.mcp) - median(times.plain)),
  },
  values.json,
);
