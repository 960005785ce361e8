import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB_DIR = fileURLToPath(new URL('../../', import.meta.url));

function newestMtime(path: string): number {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

/**
 * The daemon serves apps/web/dist; rebuild it when a source is newer, so the browser tests never run
 * against a stale bundle.
 */
export async function ensureAssets(signal: AbortSignal): Promise<void> {
  const built = newestMtime(join(WEB_DIR, 'dist', 'index.html'));
  const sources = Math.max(
    ...['src', 'public', 'index.html', 'vite.config.ts'].map((p) => newestMtime(join(WEB_DIR, p))),
  );
  if (built > sources) return;
  const child = spawn(
    process.execPath,
    [join(WEB_DIR, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'],
    {
      cwd: WEB_DIR,
      stdio: ['ignore', 'pipe', 'pipe'],
      signal,
    },
  );
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0)
    throw new Error(
      `vite build of apps/web failed (exit ${code}); run \`pnpm --filter @alter0/web build:assets\` to see why.\n${out}`,
    );
}
