import { tmpdir } from 'node:os';
import type { ExecutorKind, ExecutorProbe } from '@alter0/core';
import { ExecutorError, errorMessage } from '@alter0/core';
import { classifyFailure, failureMessage, oneLine, stderrDetail } from './classify.js';
import type { ExecutorCommonOptions, ExecutorDeps } from './config.js';
import { resolveBin } from './resolve-bin.js';
import { DEFAULT_RUNNER_OPTIONS, runProcess } from './run-process.js';
import type { RunOutcome, RunSpec, RunnerOptions } from './run-process.js';
import type { ExecRequest } from '@alter0/core';
import { EnvFilter, childEnv } from './child-env.js';

/** What an adapter needs besides its own config: resolved once by the factory. */
export interface AdapterRuntime {
  baseEnv: Readonly<Record<string, string | undefined>>;
  /** What of baseEnv a child gets (executor.env_drop and alter0's own secrets taken out). */
  envFilter: EnvFilter;
  extraEnv: Readonly<Record<string, string>>;
  runner: RunnerOptions;
  probeTimeoutMs: number;
}

const DEFAULT_PROBE_TIMEOUT_MS = 10_000;

export function adapterRuntime(common: ExecutorCommonOptions, deps: ExecutorDeps): AdapterRuntime {
  return {
    baseEnv: deps.baseEnv ?? process.env,
    envFilter: new EnvFilter(common.envDrop ?? [], deps.secretValues ?? []),
    extraEnv: common.env ?? {},
    runner: {
      killGraceMs: common.killGraceMs ?? DEFAULT_RUNNER_OPTIONS.killGraceMs,
      maxStdoutBytes: common.maxStdoutBytes ?? DEFAULT_RUNNER_OPTIONS.maxStdoutBytes,
      stderrTailBytes: deps.stderrTailBytes ?? DEFAULT_RUNNER_OPTIONS.stderrTailBytes,
      drainMs: deps.drainMs ?? DEFAULT_RUNNER_OPTIONS.drainMs,
      groups: deps.groups ?? null,
      spawn: deps.spawn ?? DEFAULT_RUNNER_OPTIONS.spawn,
    },
    probeTimeoutMs: deps.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS,
  };
}

/** The environment probe and runs see, minus the per-run ALTER0_* variables. */
function probeEnv(rt: AdapterRuntime): Record<string, string> {
  return Object.assign(rt.envFilter.apply(rt.baseEnv), rt.extraEnv);
}

/**
 * Find `bin` as spawn would, then (when `askVersion`) run `<bin> --version` with a short timeout.
 * Never throws: a failure is reported in `error` with what to do about it.
 */
export async function probeBinary(
  kind: ExecutorKind,
  bin: string,
  rt: AdapterRuntime,
  signal: AbortSignal,
  askVersion: boolean,
): Promise<ExecutorProbe> {
  const env = probeEnv(rt);
  const path = await resolveBin(bin, env.PATH, process.cwd());
  if (path === null) {
    return {
      kind,
      ok: false,
      path: null,
      version: null,
      error: `${kind}: "${bin}" was not found${bin.includes('/') ? ' or is not executable' : ' on PATH'}; install it or configure its absolute path`,
    };
  }
  if (!askVersion) return { kind, ok: true, path, version: null, error: null };
  try {
    const out = await runProcess(
      {
        argv: [path, '--version'],
        cwd: tmpdir(),
        env,
        stdin: '',
        timeoutMs: rt.probeTimeoutMs,
        signal,
        label: kind,
      },
      rt.runner,
    );
    if (out.exitCode !== 0) {
      const cls = classifyFailure({ exitCode: out.exitCode, stderr: out.stderrTail });
      const detail = stderrDetail(out.stderrTail) || `\`${bin} --version\` printed nothing on stderr`;
      return { kind, ok: false, path, version: null, error: failureMessage(kind, kind, cls, detail, out.exitCode) };
    }
    const version = oneLine(out.stdout) || oneLine(out.stderrTail);
    return { kind, ok: true, path, version: version === '' ? null : version, error: null };
  } catch (err) {
    const msg = err instanceof ExecutorError ? err.message : `${kind}: probe failed: ${errorMessage(err)}`;
    return { kind, ok: false, path, version: null, error: msg };
  }
}

/**
 * Runs one request's process: the request's prompt on stdin, its cwd, timeout, signal and environment
 * (base + configured + the per-run ALTER0_* variables). Every adapter runs through here.
 */
export function runRequest(
  rt: AdapterRuntime,
  req: ExecRequest,
  spec: Pick<RunSpec, 'argv' | 'label'> & Partial<Pick<RunSpec, 'onStderrLine' | 'keepStdoutLine'>>,
): Promise<RunOutcome> {
  return runProcess(
    {
      ...spec,
      cwd: req.cwd,
      env: childEnv(rt.baseEnv, rt.extraEnv, req, rt.envFilter),
      stdin: req.prompt,
      timeoutMs: req.timeoutMs,
      signal: req.signal,
    },
    rt.runner,
  );
}
