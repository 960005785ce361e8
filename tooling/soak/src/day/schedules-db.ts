import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ScheduleObservation } from './schedules-judge.js';

const MAIN = fileURLToPath(new URL('./schedules-db-main.js', import.meta.url));

/** Runs schedules-db-main.js in its own process with a time bound; rejects with what failed. */
export function readSchedules(file: string, signal: AbortSignal, timeoutMs = 60_000): Promise<ScheduleObservation> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, file], {
      stdio: ['ignore', 'pipe', 'pipe'],
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-4000)));
    child.on('error', (e) => reject(new Error(`schedules read of ${file} failed to run: ${e.message}`)));
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`schedules read of ${file} exited ${code}: ${err.trim() || 'no output'}`));
        return;
      }
      try {
        resolve(JSON.parse(out) as ScheduleObservation);
      } catch {
        reject(new Error(`schedules read of ${file} printed something that is not JSON: ${out.slice(0, 200)}`));
      }
    });
  });
}
