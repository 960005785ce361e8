import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { recordCaptures } from './capture.js';

// Usage: node packages/fakes/dist/capture-main.js [outDir] [scenario-substring]
const defaultDir = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'captures');
const controller = new AbortController();
process.once('SIGINT', () => controller.abort());
const files = await recordCaptures({
  outDir: process.argv[2] ?? defaultDir,
  ...(process.argv[3] ? { only: process.argv[3] } : {}),
  signal: controller.signal,
});
for (const f of files) console.log(`wrote ${f}`);
