import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';
import { serveStatic } from '@hono/node-server/serve-static';

/** Where the console's build lands in this monorepo (apps/web/dist), relative to this module's dist/. */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../web/dist', import.meta.url));

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
