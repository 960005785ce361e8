import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { SoakRun } from '../run-state.js';
import type { SoakFeature } from './feature.js';

/** statfs(2) f_type of tmpfs: proves the mount is really there before anything is written to it. */
const TMPFS_MAGIC = 0x01021994;
/** `alter0 serve` refuses to start with less than 100 MiB free (preflight `disk space`); room for the data on top. */
export const MIN_SMALL_DISK_MB = 128;

/** The small file system once prepared: where it is, or why there is none (the disk moments are skipped then). */
export interface SmallDisk {
  /** The mount point (the run's data directory), or null when there is no small disk. */
  dir: string | null;
  /** Why there is no small disk, for the report; null when there is one. */
  skipped: string | null;
}

export interface SmallDiskFeature extends SoakFeature {
  /** What prepare() did; read by the disk-full moment. */
  readonly disk: SmallDisk;
}

function sh(cmd: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 15_000 });
  const out = `${r.stderr ?? ''}${r.stdout ?? ''}`.trim() || (r.error?.message ?? `exit ${r.status}`);
  return { ok: r.status === 0, out };
}

/** Why the small disk cannot be mounted here, or null when it can be tried. */
function cannotMount(r: SoakRun): string | null {
  if (r.opts.data !== null)
    return `--data names a directory of the owner's; the small disk is only mounted over the run's own temporary data directory`;
  if (process.platform !== 'linux') return `tmpfs mounts need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root (the soak runs as a normal user)';
  if (fs.readdirSync(r.dataDir).length > 0) return `the data directory ${r.dataDir} is not empty`;
  return null;
}

/** Keeps the data of a mount about to go away (for --keep-data) in a directory beside it; returns that directory. */
function keepCopy(dir: string): string {
  const copy = `${dir}.kept`;
  fs.cpSync(dir, copy, { recursive: true });
  return copy;
}

/**
 * The day profile's small file system: a size-limited tmpfs mounted over the run's (empty) data directory, so the
 * database, its WAL and the backups (backup.dir defaults inside the data directory) share `sizeMb`; the log goes
 * to stderr (log.file=false) and the agent's state stays in the work directory, off the mount. Root only: without
 * root, or when mount fails, the disk moments are skipped and say why — unless ALTER0_REQUIRE_TOOLS=1, where
 * prepare() throws. close() unmounts (lazily when busy), after copying the data out under --keep-data.
 */
export function smallDiskFeature(o: { sizeMb: number; requireTools?: boolean }): SmallDiskFeature {
  const disk: SmallDisk = { dir: null, skipped: null };
  const require = o.requireTools ?? process.env.ALTER0_REQUIRE_TOOLS === '1';
  let kept = false;
  return {
    name: 'small_disk',
    disk,
    // A throw inside the executor rejects: every refusal reaches the caller the same way.
    prepare: (r) =>
      new Promise((resolve) => {
        kept = prepareDisk(r, o.sizeMb, require, disk);
        resolve({ sets: [], env: {} });
      }),
    close() {
      const dir = disk.dir;
      if (dir === null) return Promise.resolve();
      disk.dir = null;
      const copy = kept ? keepCopy(dir) : null;
      if (!sh('umount', [dir]).ok) sh('umount', ['-l', dir]);
      if (copy !== null) {
        for (const f of fs.readdirSync(copy)) fs.renameSync(path.join(copy, f), path.join(dir, f));
        fs.rmSync(copy, { recursive: true, force: true });
      }
      return Promise.resolve();
    },
  };
}

/** Mounts the disk over the run's data directory, or records (or, when required, throws) why not; returns keepData. */
function prepareDisk(r: SoakRun, sizeMb: number, require: boolean, disk: SmallDisk): boolean {
  if (sizeMb < MIN_SMALL_DISK_MB)
    throw new Error(
      `the small disk must be at least ${MIN_SMALL_DISK_MB} MB: alter0 serve refuses to start below 100 MiB free`,
    );
  const why = cannotMount(r) ?? mount(r.dataDir, sizeMb);
  if (why !== null) {
    disk.skipped = why;
    if (require) throw new Error(`the small disk for the disk-full moment: ${why} (ALTER0_REQUIRE_TOOLS=1)`);
    r.log(`small disk: not mounted, the disk moments are skipped: ${why}`);
    return false;
  }
  disk.dir = r.dataDir;
  r.log(`small disk: a ${sizeMb} MB tmpfs holds the data directory ${r.dataDir}`);
  return r.opts.keepData;
}

/** Mounts a tmpfs of `sizeMb` at `dir` (mode 0700, like the data directory it replaces); the error, or null. */
function mount(dir: string, sizeMb: number): string | null {
  const r = sh('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0700`, 'tmpfs', dir]);
  if (!r.ok) return `mount -t tmpfs failed: ${r.out}`;
  if (fs.statfsSync(dir).type !== TMPFS_MAGIC) {
    sh('umount', [dir]);
    return `mount -t tmpfs said ok but ${dir} is not a tmpfs`;
  }
  return null;
}
