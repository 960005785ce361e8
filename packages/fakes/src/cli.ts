import { existsSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type CliName = 'claude' | 'codex';

/** The CLI versions pinned in this package's devDependencies (docs/executors.md was verified against them). */
export const PINNED_PACKAGES: Record<CliName, string> = {
  claude: '@anthropic-ai/claude-code',
  codex: '@openai/codex',
};

// src/ and dist/ both sit one level below the package root.
const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const requireHere = createRequire(join(packageRoot, 'package.json'));

/** This package's node_modules/.bin: prepend it to PATH to make `claude` and `codex` resolve to the pinned CLIs. */
export function binDir(): string {
  return join(packageRoot, 'node_modules', '.bin');
}

/**
 * Absolute path of the pinned CLI's program, or null when it is not installed (run `pnpm install`).
 * claude: the native binary that claude-code's postinstall puts at bin/claude.exe (no Node wrapper
 * stays resident). codex: the package's bin/codex.js, which needs `node` on PATH and replaces
 * itself (execve) with the native binary, so the child's pid is the agent's.
 */
export function cliPath(name: CliName): string | null {
  let pkgDir: string;
  try {
    pkgDir = dirname(requireHere.resolve(`${PINNED_PACKAGES[name]}/package.json`));
  } catch {
    return null;
  }
  const program = name === 'claude' ? join(pkgDir, 'bin', 'claude.exe') : join(pkgDir, 'bin', 'codex.js');
  if (!existsSync(program)) return null;
  // Without its postinstall, claude-code leaves a small placeholder script that only prints an error.
  if (name === 'claude' && statSync(program).size < 64 * 1024) return null;
  return realpathSync(program);
}

/** The message tests print when a CLI is missing. */
export function missingCliMessage(name: CliName): string {
  return `${name} CLI (${PINNED_PACKAGES[name]}) is not installed in packages/fakes: run \`pnpm install\` at the repository root`;
}
