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
