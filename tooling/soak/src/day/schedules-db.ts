import { fileURLToPath } from 'node:url';
import { readJsonChild } from '../json-child.js';
import type { ScheduleObservation } from './schedules-judge.js';

const MAIN = fileURLToPath(new URL('./schedules-db-main.js', import.meta.url));

/** Runs schedules-db-main.js in its own process with a time bound; rejects with what failed. */
export function readSchedules(file: string, signal: AbortSignal, timeoutMs = 60_000): Promise<ScheduleObservation> {
  return readJsonChild<ScheduleObservation>(MAIN, [file], `schedules read of ${file}`, signal, timeoutMs);
}
