import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import type { CliName } from '../src/cli.js';
import { cliPath, missingCliMessage } from '../src/cli.js';

const REQUIRE_TOOLS = process.env['ALTER0_REQUIRE_TOOLS'] === '1';

/**
 * The pinned CLI's program, or null (with a message naming the install command) so the caller can
 * skip. With ALTER0_REQUIRE_TOOLS=1 a missing CLI is a failure instead.
 */
export function cliOrSkip(name: CliName): string | null {
  const path = cliPath(name);
  if (path !== null) return path;
  if (REQUIRE_TOOLS) throw new Error(`${missingCliMessage(name)} (ALTER0_REQUIRE_TOOLS=1)`);
  console.warn(`skipping: ${missingCliMessage(name)}`);
  return null;
}

export interface ProcInfo {
  pid: number;
  ppid: number;
  pgid: number;
}

/** Every live (non-zombie) process, from /proc. */
export function liveProcesses(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z' || fields[0] === 'X') continue;
      out.push({ pid: Number(name), ppid: Number(fields[1]), pgid: Number(fields[2]) });
    } catch {
      // The process exited while we looked.
    }
  }
  return out;
}

/** Live (non-zombie) members of a process group. */
export function liveGroupMembers(pgid: number): number[] {
  return liveProcesses()
    .filter((p) => p.pgid === pgid)
    .map((p) => p.pid);
}

/**
 * Waits until no process of the group runs, and returns those still running after `ms` (none: []). runCli
 * SIGKILLs the group when its leader exits and resolves at once: the members die a moment later (later still on
 * a loaded machine), and an orphan stays a zombie until PID 1 reaps it, which some inits do late.
 */
export async function groupGone(pgid: number, ms = 15_000): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const live = liveGroupMembers(pgid);
    if (live.length === 0 || Date.now() >= deadline) return live;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Pids of live (non-zombie) processes whose working directory is `dir`: the agent CLIs of a test. */
export function liveProcessesIn(dir: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readlinkSync(`/proc/${name}/cwd`) !== dir) continue;
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
      if (state !== 'Z' && state !== 'X') pids.push(Number(name));
    } catch {
      // The process exited while we looked.
    }
  }
  return pids;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** All text of a request body, to look for earlier turns in it. */
export function bodyText(body: unknown): string {
  return JSON.stringify(body ?? null);
}

/** Parses `codex exec --json` stdout into events (throws on a non-JSON line: that is a finding). */
export function jsonl(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const v: unknown = JSON.parse(l);
      if (!isRecord(v)) throw new Error(`codex event is not an object: ${l}`);
      return v;
    });
}

export function claudeResult(stdout: string): Record<string, unknown> {
  const v: unknown = JSON.parse(stdout);
  if (!isRecord(v)) throw new Error(`claude stdout is not a JSON object: ${stdout.slice(0, 200)}`);
  return v;
}
