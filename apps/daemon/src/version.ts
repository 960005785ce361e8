import fs from 'node:fs';

export interface BuildInfo {
  version: string;
  commit: string | null;
  builtAt: string | null;
  node: string;
}

/**
 * The release version, commit and build date stamped by `pnpm build` (tooling/stamp-build.mjs writes
 * dist/build-info.json); without a stamp, the package's own version.
 */
export function buildInfo(): BuildInfo {
  const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  let version = pkg.version;
  let commit: string | null = null;
  let builtAt: string | null = null;
  try {
    const b = JSON.parse(fs.readFileSync(new URL('../dist/build-info.json', import.meta.url), 'utf8')) as {
      version?: string;
      commit?: string | null;
      built_at?: string;
    };
    version = b.version ?? version;
    commit = b.commit ?? null;
    builtAt = b.built_at ?? null;
  } catch {
    // Not stamped (a development build): version only.
  }
  return { version, commit, builtAt, node: process.version };
}
