import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Hono } from 'hono';
import { serveStatic } from '@hono/node-server/serve-static';

/** The console's build: the dist/ of the @alter0/web package (a dependency), wherever it is installed. */
export const DEFAULT_WEB_ROOT = path.join(
  path.dirname(createRequire(import.meta.url).resolve('@alter0/web/package.json')),
  'dist',
);

/** Serves the console at `/`; unknown non-API paths fall back to index.html (client-side routes). */
export function mountConsole(app: Hono, root: string): void {
  const index = path.join(root, 'index.html');
  app.use('/*', serveStatic({ root }));
  app.get('*', (c) => {
    if (!fs.existsSync(index)) {
      return c.text('The web console is not built. Run tooling/setup.sh (or pnpm build) and restart alter0.', 503);
    }
    return c.html(fs.readFileSync(index, 'utf8'));
  });
}
