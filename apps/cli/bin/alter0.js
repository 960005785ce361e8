#!/usr/bin/env node
// Entry shim kept outside dist/ so the package manager can link it before the first build.
import { readdirSync, statSync } from 'node:fs';

const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  process.stderr.write(
    `alter0 needs Node.js >= 22 (this is ${process.version}).\n` +
      'Run it as tooling/alter0 (which uses the Node that tooling/setup.sh installed), ' +
      'or put .tools/node/bin first on PATH.\n',
  );
  process.exit(78);
}
// Compiled code is cached on disk between runs: a (re)start of the daemon loads its ~650 modules in about half the
// time. The cache is the owner's own (XDG cache dir, not the shared /tmp); where it cannot be written, Node runs
// without it. NODE_COMPILE_CACHE, when set, wins.
{
  const { enableCompileCache } = await import('node:module');
  const { homedir } = await import('node:os');
  const cacheHome = process.env.XDG_CACHE_HOME || `${homedir()}/.cache`;
  enableCompileCache?.(process.env.NODE_COMPILE_CACHE || `${cacheHome}/alter0/node-compile-cache`);
}
let served = false;
if (process.argv[2] === 'serve') {
  // The daemon's own V8 flags (DAEMON_NODE_FLAGS in @alter0/core): when whoever started it did not give them, this
  // process image is replaced by one that has them (same pid, so a supervisor sees no change); agents never get them.
  const { missingDaemonFlags } = await import('@alter0/core');
  const missing = missingDaemonFlags(process.execArgv);
  if (missing.length > 0 && typeof process.execve === 'function') {
    process.execve(
      process.execPath,
      [process.execPath, ...process.execArgv, ...missing, ...process.argv.slice(1)],
      process.env,
    );
  }
  // The daemon without yargs when its flags parse as they are (it then runs on); otherwise the full CLI answers.
  // From the one-file bundle of the same code when it is up to date (scripts/bundle-daemon.mjs says why).
  const { serveFast } = await import(freshBundle() ?? '../dist/serve-fast.js');
  served = await serveFast(process.argv.slice(3));
}
if (process.argv[2] === 'mcp-approvals' && process.argv.length === 3) {
  // Started by claude before every run that may ask the owner, and waited for: straight to the server, no yargs.
  const { mcpApprovals } = await import('../dist/commands/mcp-approvals.js');
  await mcpApprovals();
  served = true;
}
if (!served) await import('../dist/bin.js');

/**
 * dist/serve.bundle.mjs when it is newer than the last build of every package (tsc -b writes each one's
 * tsconfig.tsbuildinfo); null, with a warning in the log's format, when it is missing or older — a stale bundle
 * would run code that is no longer the source.
 */
function freshBundle() {
  const bundle = new URL('../dist/serve.bundle.mjs', import.meta.url);
  let built;
  try {
    built = statSync(bundle).mtimeMs;
  } catch {
    return null;
  }
  const root = new URL('../../../', import.meta.url);
  for (const group of ['packages', 'apps']) {
    let names = [];
    try {
      names = readdirSync(new URL(`${group}/`, root));
    } catch {
      continue;
    }
    for (const name of names) {
      let mtime = 0;
      try {
        mtime = statSync(new URL(`${group}/${name}/tsconfig.tsbuildinfo`, root)).mtimeMs;
      } catch {
        continue;
      }
      if (mtime > built) {
        const message = `the daemon's bundle is older than the last build of ${group}/${name}; starting from the separate modules (a slower start)`;
        process.stderr.write(
          `${JSON.stringify({ time: new Date().toISOString(), level: 'warn', message, fix: 'run `pnpm build` (it rebuilds apps/cli/dist/serve.bundle.mjs)' })}\n`,
        );
        return null;
      }
    }
  }
  return bundle.href;
}
