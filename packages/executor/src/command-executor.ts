import { basename } from 'node:path';
import type { ExecRequest, ExecResult, Executor, ExecutorProbe } from '@alter0/core';
import { ExecutorError } from '@alter0/core';
import { classifyFailure, failureMessage, stderrDetail } from './classify.js';
import type { CommandExecutorConfig } from './config.js';
import type { RunOutcome } from './run-process.js';
import { probeBinary, runRequest } from './runtime.js';
import type { AdapterRuntime } from './runtime.js';

/** A program may hand back a session id for the next turn by printing this on stderr. */
const SESSION_MARKER = /^ALTER0_SESSION_ID=(\S{1,512})\s*$/;

/**
 * Any program as an executor: prompt on stdin, reply on stdout, context in ALTER0_* variables
 * (see README). A non-zero exit is classified from stderr; an empty reply is bad_output.
 */
export function createCommandExecutor(config: CommandExecutorConfig, rt: AdapterRuntime): Executor {
  const program = config.argv[0] ?? '';
  const label = program === '' ? 'command' : basename(program);
  return {
    kind: 'command',
    async run(req: ExecRequest): Promise<ExecResult> {
      let announced: string | null = null;
      const out = await runRequest(rt, req, {
        argv: config.argv,
        label,
        onStderrLine: (line) => {
          const m = SESSION_MARKER.exec(line);
          if (m?.[1] !== undefined) announced = m[1];
        },
      });
      if (out.exitCode !== 0) throw commandFailure(label, out);
      const text = stripOneNewline(out.stdout);
      if (text.trim() === '') {
        throw new ExecutorError(
          'bad_output',
          `${label} exited 0 but printed nothing on stdout; a command executor must print its reply on stdout`,
          { stderrTail: out.stderrTail, exitCode: 0 },
        );
      }
      return {
        text,
        sessionId: announced ?? req.sessionId,
        usage: null,
        durationMs: out.durationMs,
        stderrTail: out.stderrTail,
        pid: out.pid,
      };
    },
    probe(signal: AbortSignal): Promise<ExecutorProbe> {
      // Running an arbitrary program with --version could do real work: only check it is there.
      return probeBinary('command', program, rt, signal, false);
    },
  };
}

function commandFailure(label: string, out: RunOutcome): ExecutorError {
  const cls = classifyFailure({ exitCode: out.exitCode, stderr: out.stderrTail });
  const detail =
    out.exitSignal !== null ? `killed by ${out.exitSignal}` : stderrDetail(out.stderrTail) || 'nothing on stderr';
  return new ExecutorError(cls, failureMessage('command', label, cls, detail, out.exitCode), {
    stderrTail: out.stderrTail,
    exitCode: out.exitCode,
  });
}

function stripOneNewline(s: string): string {
  if (s.endsWith('\r\n')) return s.slice(0, -2);
  if (s.endsWith('\n')) return s.slice(0, -1);
  return s;
}
