import fs from 'node:fs';
import path from 'node:path';
import type { SoakRun } from '../run-state.js';
import type { SoakFeature } from './feature.js';

/**
 * The daemon's wall clock, made to jump without touching the system clock: `alter0 serve` runs under libfaketime
 * (LD_PRELOAD), which reads a relative offset ("+7200", "-3600", "+0") from a file the harness rewrites. Only
 * CLOCK_REALTIME moves (FAKETIME_DONT_FAKE_MONOTONIC), as in a real clock change; the file is re-read at most
 * every FAKETIME_CACHE_DURATION seconds (FAKETIME_NO_CACHE would cost ~6 µs per Date.now()). The agents the daemon
 * spawns are not faked: executor.env_drop keeps the preload from them (their log stamps are compared with the
 * harness's clock).
 */

/** Where Debian and others put it (package libfaketime). */
const LIB_CANDIDATES = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/faketime/libfaketime.so.1',
  '/usr/local/lib/faketime/libfaketime.so.1',
  '/usr/lib64/faketime/libfaketime.so.1',
];
export const FAKETIME_INSTALL = 'apt-get install -y libfaketime';

/** The preload library, or null when libfaketime is not installed. */
export function findFaketime(): string | null {
  return LIB_CANDIDATES.find((p) => fs.existsSync(p)) ?? null;
}

/** Variables that must not reach an agent: the preload and its settings. */
const AGENT_DROP = ['LD_PRELOAD', 'FAKETIME*', 'NO_FAKE_STAT'];

export interface ClockOptions {
  /** The libfaketime library (default: found in the usual places). */
  lib?: string;
  /** How long the daemon may keep the old offset after a change, seconds (default 1). */
  cacheSec?: number;
}

export interface ClockFeature extends SoakFeature {
  /** Moves the daemon's wall clock to real time + `offsetMs` (whole seconds); effective within `cacheMs`. */
  set(offsetMs: number): void;
  offsetMs(): number;
  readonly cacheMs: number;
}

export function clockFeature(opts: ClockOptions = {}): ClockFeature {
  const cacheSec = opts.cacheSec ?? 1;
  let file = '';
  let offset = 0;
  const write = (ms: number): void => {
    const sec = Math.round(ms / 1000);
    // Renamed into place: libfaketime never reads a half-written offset.
    fs.writeFileSync(`${file}.tmp`, `${sec >= 0 ? '+' : ''}${sec}\n`);
    fs.renameSync(`${file}.tmp`, file);
    offset = sec * 1000;
  };
  return {
    name: 'clock',
    cacheMs: cacheSec * 1000,
    prepare: (run: SoakRun) => {
      const lib = opts.lib ?? findFaketime();
      if (lib === null || !fs.existsSync(lib))
        return Promise.reject(
          new Error(`clock jumps need libfaketime, which is not installed: ${FAKETIME_INSTALL} (Debian/Ubuntu)`),
        );
      const dir = path.join(run.work, 'clock');
      fs.mkdirSync(dir, { recursive: true });
      file = path.join(dir, 'faketime.rc');
      write(0);
      const preload = process.env.LD_PRELOAD;
      return Promise.resolve({
        sets: [],
        env: {
          LD_PRELOAD: preload ? `${lib}:${preload}` : lib,
          FAKETIME_TIMESTAMP_FILE: file,
          FAKETIME_DONT_FAKE_MONOTONIC: '1',
          FAKETIME_CACHE_DURATION: String(cacheSec),
          // File times stay real: a jump moves "now", not the age the files already have.
          NO_FAKE_STAT: '1',
          // Replaces the default list (docs/configuration.md); the soak agent needs none of the variables it drops.
          ALTER0_EXECUTOR__ENV_DROP: JSON.stringify(AGENT_DROP),
        },
      });
    },
    close: () => {
      // The next run's daemon starts at real time whatever this one left.
      if (file !== '' && fs.existsSync(path.dirname(file))) write(0);
      return Promise.resolve();
    },
    set: write,
    offsetMs: () => offset,
  };
}
