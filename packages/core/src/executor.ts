import type { ExecutorKind, Stage } from './domain.js';

/** One call to an agent CLI. Prompts travel on stdin or argv, never through a shell. */
export interface ExecRequest {
  stage: Stage;
  prompt: string;
  /** The task's agent session/thread to resume (execute stage only); null starts a new one. */
  sessionId: string | null;
  taskId: string | null;
  jobId: string | null;
  /** Working directory the agent runs in (the task's workspace). */
  cwd: string;
  timeoutMs: number;
  signal: AbortSignal;
  /**
   * Where this run asks the owner before it uses a tool, and the token only it holds (`ALTER0_URL`,
   * `ALTER0_APPROVAL_TOKEN` in its environment; claude's permission prompts go there through alter0's MCP server).
   */
  approval?: {
    url: string;
    token: string;
    /** argv of alter0's MCP approval server (`alter0 mcp-approvals`), for agents that ask through MCP (claude). */
    mcpCommand?: readonly string[];
  };
}

export interface ExecUsage {
  inputTokens?: number;
  outputTokens?: number;
  cacheReadTokens?: number;
  costUsd?: number;
}

export interface ExecResult {
  /** The agent's final reply text. */
  text: string;
  /** Session/thread id to store on the task for the next turn (null if the CLI has none). */
  sessionId: string | null;
  usage: ExecUsage | null;
  durationMs: number;
  /** Last bytes of stderr, for diagnosis even on success. */
  stderrTail: string;
  pid: number | null;
  /** Tool uses the agent was refused during the run (claude's permission_denials), inputs as the agent reported them. */
  denials?: { tool: string; input: unknown }[];
}

export interface ExecutorProbe {
  kind: ExecutorKind;
  ok: boolean;
  /** Resolved program path, when found. */
  path: string | null;
  version: string | null;
  error: string | null;
}

/**
 * The one adapter interface every executor implements (docs/architecture.md, "Executors").
 * `run` rejects with `ExecutorError` (typed class) and never leaves a child process behind.
 */
export interface Executor {
  readonly kind: ExecutorKind;
  run(req: ExecRequest): Promise<ExecResult>;
  probe(signal: AbortSignal): Promise<ExecutorProbe>;
}
