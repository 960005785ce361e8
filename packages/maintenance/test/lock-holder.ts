import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

const STORE = new URL('../../store/dist/index.js', import.meta.url).href;

/** A separate process holding the data directory's lock, as a running alter0 would. */
export async function holdLock(dataDir: string): Promise<{ pid: number; release: () => Promise<void> }> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import {acquireDataDirLock} from ${JSON.stringify(STORE)}; acquireDataDirLock(${JSON.stringify(dataDir)}); console.log('locked'); setInterval(() => {}, 1000);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    // A cold Node start loading the native SQLite driver: seconds on a loaded two-core machine.
    const timer = setTimeout(() => reject(new Error('the lock holder did not start in 20 s')), 20_000);
    child.stdout?.on('data', (b: Buffer) => {
      if (b.toString().includes('locked')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (c) => {
      clearTimeout(timer);
      reject(new Error(`the lock holder exited with ${c}`));
    });
  });
  return {
    pid: child.pid!,
    release: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
