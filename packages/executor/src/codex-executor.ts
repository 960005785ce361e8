import type { ExecRequest, ExecResult, Executor, ExecutorProbe } from '@alter0/core';
import { ExecutorError } from '@alter0/core';
import { classifyFailure, failureMessage, stderrDetail } from './classify.js';
import { codexLineNeeded, parseCodexEvents } from './codex-output.js';
import type { CodexExecutorConfig } from './config.js';
import type { RunOutcome } from './run-process.js';
import { probeBinary, runRequest } from './runtime.js';
import type { AdapterRuntime } from './runtime.js';
import { SessionNotFoundError } from './session-lost.js';

const LABEL = 'codex';
const NO_THREAD = /no rollout found for thread id/i;

/** approvals.mode as codex's sandbox: it cannot ask, so "ask" keeps it to what is safe without asking. */
const CODEX_SANDBOX = { ask: 'workspace-write', allow_all: 'danger-full-access', deny_all: 'read-only' } as const;

/**
 * argv for one call; the prompt always comes on stdin (`-`).
 * - `--skip-git-repo-check`: task workspaces are plain directories, and codex refuses to run
 *   outside a git repository without it.
 * - `--sandbox workspace-write` for execute (edits confined to the workspace, no network for
 *   commands), `read-only` for router/closer calls, which only read text.
 * - Router/closer calls are `--ephemeral` (no session file) and never resume the task's thread.
 * `codex exec` options must precede the `resume` subcommand, which lacks several of them.
 */
export function codexArgv(config: CodexExecutorConfig, req: Pick<ExecRequest, 'stage' | 'sessionId'>): string[] {
  const execute = req.stage === 'execute';
  const argv = [config.bin ?? 'codex', 'exec', '--json', '--skip-git-repo-check'];
  argv.push('--sandbox', execute ? CODEX_SANDBOX[config.approvals ?? 'ask'] : 'read-only');
  // A judge reads no AGENTS.md of the workspace and no execpolicy rules (verified, docs/executors.md).
  if (!execute) argv.push('--ephemeral', '--ignore-rules', '-c', 'project_doc_max_bytes=0');
  // An empty model means "the CLI's default" (that is how the config file spells unset).
  if (config.model !== undefined && config.model !== '') argv.push('--model', config.model);
  argv.push(...(config.args ?? []));
  if (execute && req.sessionId !== null) argv.push('resume', req.sessionId);
  argv.push('-');
  return argv;
}

export function createCodexExecutor(config: CodexExecutorConfig, rt: AdapterRuntime): Executor {
  return {
    kind: 'codex',
    async run(req: ExecRequest): Promise<ExecResult> {
      const out = await runRequest(rt, req, {
        argv: codexArgv(config, req),
        label: LABEL,
        keepStdoutLine: codexLineNeeded,
      });
      return codexResult(req, out);
    },
    probe(signal: AbortSignal): Promise<ExecutorProbe> {
      return probeBinary('codex', config.bin ?? 'codex', rt, signal, true);
    },
  };
}

/** Turn a finished codex process into a result or a classified error. */
export function codexResult(req: Pick<ExecRequest, 'stage' | 'sessionId'>, out: RunOutcome): ExecResult {
  const run = parseCodexEvents(out.stdout);
  const fail = (cls: Parameters<typeof failureMessage>[2], detail: string): ExecutorError =>
    new ExecutorError(cls, failureMessage('codex', LABEL, cls, detail, out.exitCode), {
      stderrTail: out.stderrTail,
      exitCode: out.exitCode,
    });

  if (run.failure !== null || out.exitCode !== 0) {
    if (req.stage === 'execute' && req.sessionId !== null && NO_THREAD.test(out.stderrTail)) {
      const line = out.stderrTail.split('\n').find((l) => NO_THREAD.test(l)) ?? '';
      throw new SessionNotFoundError(LABEL, req.sessionId, line.trim(), out.stderrTail, out.exitCode);
    }
    const message = run.failure ?? run.lastError;
    const detail =
      message ??
      (out.exitSignal !== null
        ? `killed by ${out.exitSignal}`
        : stderrDetail(errorLines(out.stderrTail)) || 'no output');
    const cls = classifyFailure({
      exitCode: out.exitCode,
      stderr: out.stderrTail,
      payload: message === null ? null : { message },
    });
    throw fail(cls, detail);
  }
  if (run.events === 0) throw fail('bad_output', `no JSON events on stdout (${run.garbage} unparsable lines)`);
  if (!run.turnCompleted) throw fail('bad_output', 'the event stream ended without turn.completed');
  if (run.reply === null) throw fail('bad_output', 'the turn completed without an agent message');
  return {
    text: run.reply,
    // Ephemeral router/closer threads are not saved: their ids cannot be resumed.
    sessionId: req.stage === 'execute' ? (run.threadId ?? req.sessionId) : null,
    usage: run.usage,
    durationMs: out.durationMs,
    stderrTail: out.stderrTail,
    pid: out.pid,
  };
}

/** Codex prints a Rust backtrace after an error; its frames say nothing to an owner. */
function errorLines(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => !/^\s*(?:\d+: |Stack backtrace:|stack backtrace:|note: )/.test(l) && !/^\s*at /.test(l))
    .join('\n');
}
