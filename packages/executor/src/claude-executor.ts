import type { ExecRequest, ExecResult, Executor, ExecutorProbe } from '@alter0/core';
import { ExecutorError } from '@alter0/core';
import { classifyFailure, failureMessage, stderrDetail } from './classify.js';
import { claudeDenials, claudeReply, claudeUsage, parseClaudeOutput } from './claude-output.js';
import type { ClaudeResult } from './claude-output.js';
import type { ClaudeExecutorConfig } from './config.js';
import type { RunOutcome } from './run-process.js';
import { probeBinary, runRequest } from './runtime.js';
import type { AdapterRuntime } from './runtime.js';
import { SessionNotFoundError } from './session-lost.js';
import { approvalMcp } from './claude-approvals.js';

const LABEL = 'claude';
const NO_SESSION = /No conversation found with session ID/i;

/**
 * What makes a router/closer call the cheapest claude allows (verified against the pinned CLI, docs/executors.md):
 * unsaved; no tools; no settings files, so no CLAUDE.md of the workspace or the owner and no hooks; no MCP servers;
 * no skills or commands; and a one-line system prompt instead of Claude Code's (~7k characters per call).
 */
export const CLAUDE_JUDGE_FLAGS: readonly string[] = [
  '--no-session-persistence',
  '--tools',
  '',
  '--setting-sources',
  '',
  '--strict-mcp-config',
  '--disable-slash-commands',
  '--system-prompt',
  'You judge text for a task manager. Answer exactly in the format the message asks for.',
];

/**
 * argv for one call. Only the execute stage touches the task's session; router and closer calls
 * run unsaved (`--no-session-persistence`) and without tools (`--tools ""`): they only classify text.
 */
export function claudeArgv(config: ClaudeExecutorConfig, req: Pick<ExecRequest, 'stage' | 'sessionId'>): string[] {
  const argv = [config.bin ?? 'claude', '-p', '--output-format', 'json'];
  // An empty model means "the CLI's default" (that is how the config file spells unset).
  if (config.model !== undefined && config.model !== '') argv.push('--model', config.model);
  if (req.stage === 'execute') {
    if (req.sessionId !== null) argv.push('--resume', req.sessionId);
    // Print mode denies every tool that needs approval (and still exits 0 with is_error:false), so an agent
    // that should edit its workspace must be allowed to. The owner's own args can choose another mode.
    const own = config.args ?? [];
    if (
      !own.some(
        (a) =>
          a === '--permission-mode' || a.startsWith('--permission-mode=') || a === '--dangerously-skip-permissions',
      )
    ) {
      argv.push('--permission-mode', 'acceptEdits');
    }
  } else {
    argv.push(...CLAUDE_JUDGE_FLAGS);
  }
  argv.push(...(config.args ?? []));
  return argv;
}

export function createClaudeExecutor(config: ClaudeExecutorConfig, rt: AdapterRuntime): Executor {
  return {
    kind: 'claude',
    async run(req: ExecRequest): Promise<ExecResult> {
      const mcp = await approvalMcp(req);
      try {
        const argv = [...claudeArgv(config, req), ...(mcp?.args ?? [])];
        const out = await runRequest(rt, req, { argv, label: LABEL });
        return claudeResult(req, out);
      } finally {
        await mcp?.remove();
      }
    },
    probe(signal: AbortSignal): Promise<ExecutorProbe> {
      return probeBinary('claude', config.bin ?? 'claude', rt, signal, true);
    },
  };
}

/** Turn a finished claude process into a result or a classified error. */
export function claudeResult(req: Pick<ExecRequest, 'stage' | 'sessionId'>, out: RunOutcome): ExecResult {
  const parsed = parseClaudeOutput(out.stdout);
  if (!parsed.ok) {
    if (out.exitCode === 0) {
      throw new ExecutorError(
        'bad_output',
        failureMessage('claude', LABEL, 'bad_output', `no JSON result on stdout: ${parsed.reason}`, 0),
        { stderrTail: out.stderrTail, exitCode: 0 },
      );
    }
    throw processFailure(req, out);
  }
  const r = parsed.result;
  const text = claudeReply(r);
  if (text === null) throw resultFailure(r, out);
  return {
    text,
    // Unsaved router/closer sessions cannot be resumed: do not hand their ids out.
    sessionId: req.stage === 'execute' ? (r.session_id ?? req.sessionId) : null,
    usage: claudeUsage(r),
    durationMs: out.durationMs,
    stderrTail: out.stderrTail,
    pid: out.pid,
    denials: claudeDenials(r),
  };
}

function resultFailure(r: ClaudeResult, out: RunOutcome): ExecutorError {
  if (!r.is_error) {
    const detail = `result subtype "${r.subtype}" without reply text`;
    return new ExecutorError('bad_output', failureMessage('claude', LABEL, 'bad_output', detail, out.exitCode), {
      stderrTail: out.stderrTail,
      exitCode: out.exitCode,
    });
  }
  const message = r.result ?? `result subtype ${r.subtype}`;
  const cls = classifyFailure({
    exitCode: out.exitCode,
    stderr: out.stderrTail,
    payload: { status: r.api_error_status ?? null, type: r.api_error_type ?? null, message },
  });
  const detail = r.api_error_status != null ? `HTTP ${r.api_error_status}: ${message}` : message;
  return new ExecutorError(cls, failureMessage('claude', LABEL, cls, detail, out.exitCode), {
    stderrTail: out.stderrTail,
    exitCode: out.exitCode,
  });
}

function processFailure(req: Pick<ExecRequest, 'stage' | 'sessionId'>, out: RunOutcome): ExecutorError {
  const detail =
    out.exitSignal !== null ? `killed by ${out.exitSignal}` : stderrDetail(out.stderrTail) || 'no output at all';
  if (req.stage === 'execute' && req.sessionId !== null && NO_SESSION.test(out.stderrTail)) {
    return new SessionNotFoundError(LABEL, req.sessionId, detail, out.stderrTail, out.exitCode);
  }
  const cls = classifyFailure({ exitCode: out.exitCode, stderr: out.stderrTail });
  return new ExecutorError(cls, failureMessage('claude', LABEL, cls, detail, out.exitCode), {
    stderrTail: out.stderrTail,
    exitCode: out.exitCode,
  });
}
