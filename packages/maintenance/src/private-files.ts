import fs from 'node:fs';
import path from 'node:path';
import { currentUid } from '@alter0/config';

/*
 * Everything alter0 keeps is the owner's only: the database holds every prompt and reply, the logs quote them, the
 * workspaces hold the agents' work. The CLI sets the umask to 077 for its local commands; these helpers set the
 * modes explicitly too, so a library caller or an odd umask cannot leave a file world-readable.
 */

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** mkdir -p with mode 0700 for what it creates, and 0700 on `dir` itself. */
export function privateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  fs.chmodSync(dir, PRIVATE_DIR_MODE);
}

/** chmod 0600 when the file exists (a missing -wal or -shm is fine). */
export function privateFile(file: string): void {
  try {
    fs.chmodSync(file, PRIVATE_FILE_MODE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

export interface TightenResult {
  /** Paths whose mode was changed, with the old and new mode (octal). */
  fixed: { path: string; from: string; to: string }[];
  /** Paths that could not be changed, with why. */
  failed: { path: string; error: string }[];
}

/** alter0's own files at the top of the data directory. */
const OWN_FILES =
  /^(alter0\.(db|db-wal|db-shm|db-journal|db\.restore-tmp|lock|toml|json)|alter0\.db\.replaced-.+|token)$/;
/** alter0's own folders there, walked whole. */
const OWN_TREES: ReadonlySet<string> = new Set(['backups', 'logs', 'run']);
/** The folder of task workspaces: each workspace is tightened itself, its contents are the agent's work. */
const WORK_TREE = 'workspaces';
/** alter0's files in a log or backup folder that lives outside the data directory (a folder it may share). */
const OWN_OUTSIDE = /^(alter0-.+\.(log(\.\d+)?(\.gz)?|db(\.tmp)?)|\.alter0-log-audit\.json)$/;

const octal = (m: number): string => (m & 0o7777).toString(8).padStart(4, '0');

/**
 * Takes group and other permissions off what alter0 keeps, for installs made before it set its own modes: the data
 * directory itself, its own files there (database, WAL, lock, config, token …), everything under backups/, logs/
 * and run/, each task workspace folder (not its contents: the agent's work, out of reach once the folder is 0700,
 * and a big checkout would slow every start), and alter0's files in a log or backup folder kept elsewhere. Only
 * entries owned by this user are touched, symlinks are never followed, and nothing else in a shared folder is
 * changed. Returns what it changed, for the log.
 */
export function tightenDataDir(
  dataDir: string,
  extraDirs: readonly string[] = [],
  uid: number | null = currentUid(),
): TightenResult {
  const result: TightenResult = { fixed: [], failed: [] };
  if (uid === null) return result;
  const root = path.resolve(dataDir);
  const seen = new Set<string>();
  const fix = (p: string): fs.Stats | null => {
    if (seen.has(p)) return null;
    seen.add(p);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      return null;
    }
    if (st.isSymbolicLink() || st.uid !== uid) return null;
    if ((st.mode & 0o077) !== 0) {
      const want = st.mode & 0o7700;
      try {
        fs.chmodSync(p, want);
        result.fixed.push({ path: p, from: octal(st.mode), to: octal(want) });
      } catch (err) {
        result.failed.push({ path: p, error: (err as Error).message });
      }
    }
    return st;
  };
  const list = (dir: string): string[] => {
    try {
      return fs.readdirSync(dir);
    } catch (err) {
      result.failed.push({ path: dir, error: (err as Error).message });
      return [];
    }
  };
  const tree = (p: string): void => {
    if (fix(p)?.isDirectory() === true) for (const name of list(p)) tree(path.join(p, name));
  };
  if (fix(root)?.isDirectory() !== true) return result;
  for (const name of list(root)) {
    const p = path.join(root, name);
    if (OWN_FILES.test(name)) fix(p);
    else if (OWN_TREES.has(name)) tree(p);
    else if (name === WORK_TREE && fix(p)?.isDirectory() === true) for (const ws of list(p)) fix(path.join(p, ws));
  }
  for (const dir of extraDirs.map((d) => path.resolve(d))) {
    if (isInside(dir, root) || !fs.existsSync(dir)) continue;
    for (const name of list(dir)) if (OWN_OUTSIDE.test(name)) fix(path.join(dir, name));
  }
  return result;
}

function isInside(p: string, dir: string): boolean {
  const rel = path.relative(dir, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}
