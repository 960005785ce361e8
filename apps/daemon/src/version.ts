import fs from 'node:fs';

export interface BuildInfo {
  version: string;
  commit: string | null;
  builtAt: string | null;
  node: string;
}

/** The daemon package's version, plus the commit and date stamped at build when present (build-info.json). */
export function buildInfo(): BuildInfo {
  const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  let commit: string | null = null;
  let builtAt: string | null = null;
  try {
    const b = JSON.parse(fs.readFileSync(new URL('../dist/build-info.json', import.meta.url), 'utf8')) as {
      commit?: string;
      built_at?: string;
    };
    commit = b.commit ?? null;
    builtAt = b.built_at ?? null;
  } catch {
    // Not stamped (a development build): version only.
  }
  return { version: pkg.version, commit, builtAt, node: process.version };
}
