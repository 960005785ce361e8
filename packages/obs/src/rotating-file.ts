import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import DailyRotateFile from 'winston-daily-rotate-file';

export interface RotatingFileOptions {
  dir: string;
  /** winston-daily-rotate-file size: "20m", "500k". */
  maxSize: string;
  /** A file count ("10") or an age in days ("14d"). */
  maxFiles: string;
}

/** The file name pattern, for docs and tests: one file per day, with `.1`, `.2` … when a day's file reaches maxSize. */
export const LOG_FILE_PATTERN = 'alter0-%DATE%.log';
/** Always points at the file being written (`tail -F <dir>/alter0.log`). */
export const LOG_SYMLINK = 'alter0.log';
const AUDIT_FILE = '.alter0-log-audit.json';
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

/** Creates the log folder 0700 when it is missing (the library would create it with the umask's mode). */
function preparePrivateDir(dir: string): void {
  if (fs.existsSync(dir)) return;
  fs.mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  fs.chmodSync(dir, DIR_MODE);
}

/**
 * The rotation library writes its audit file with the default mode; a rewrite keeps the mode, so one chmod after
 * each time it may have been created is enough.
 */
function privateAudit(audit: string): void {
  try {
    fs.chmodSync(audit, FILE_MODE);
  } catch {
    // Not written yet (or the folder is gone): the next call catches it.
  }
}

/**
 * winston-daily-rotate-file with gzip done here instead of by its `zippedArchive` option: that
 * option compresses a rotated file as soon as rotation starts, before the file is open or its last
 * writes are flushed, so lines are lost or the file is never compressed. Here a rotated file is
 * compressed only once every rotated stream has closed, and close() waits for that.
 */
export class RotatingFileTransport extends DailyRotateFile {
  private rotations = 0;
  private closes = 0;
  private closing = false;
  private readonly toArchive: string[] = [];
  private readonly archiving = new Set<Promise<void>>();
  private readonly closedWaiters: (() => void)[] = [];
  /** Files retention removed; a compression still running for one of them must not leave its .gz behind. */
  private readonly removed = new Set<string>();

  constructor(opts: RotatingFileOptions) {
    preparePrivateDir(opts.dir);
    super({
      dirname: opts.dir,
      filename: LOG_FILE_PATTERN,
      datePattern: 'YYYY-MM-DD',
      maxSize: opts.maxSize,
      maxFiles: opts.maxFiles,
      zippedArchive: false,
      auditFile: path.join(opts.dir, AUDIT_FILE),
      // Logs quote prompts, errors and agent stderr: the owner's only, whatever the umask.
      options: { flags: 'a', mode: FILE_MODE },
      createSymlink: true,
      symlinkName: LOG_SYMLINK,
    });
    const audit = path.join(opts.dir, AUDIT_FILE);
    privateAudit(audit);
    this.on('new', () => privateAudit(audit));
    this.on('rotate', (oldFile: string) => {
      privateAudit(audit);
      this.rotations++;
      this.toArchive.push(oldFile);
    });
    // Every rotation ends one stream; when the close count catches up, no rotated file has pending writes.
    this.logStream.on('close', () => {
      this.closes++;
      if (this.closes >= this.rotations) this.archivePending();
      if (this.closing && this.closes > this.rotations) for (const w of this.closedWaiters.splice(0)) w();
    });
    // A write the disk refuses (full, the file gone) must never take the process down: the stream's error had no
    // listener and crashed the daemon when its disk filled up. It is reported once per file as a warning (the
    // logger's other destinations, stderr first, go on), and the next rotation opens a new file.
    let failing = false;
    this.on('new', () => {
      failing = false;
    });
    this.logStream.on('error', (err: Error) => {
      if (failing) return;
      failing = true;
      this.emit('warn', new Error(`cannot write the log file; the log goes on to stderr: ${err.message}`));
    });
    // Retention removes the plain name it logged; the compressed copy is ours to remove.
    this.on('logRemoved', (name: string) => {
      this.removed.add(name);
      this.removeArchive(name);
    });
  }

  private removeArchive(name: string): void {
    fs.rm(`${name}.gz`, { force: true }, (err) => {
      if (err !== null) this.emit('warn', new Error(`cannot remove old log ${name}.gz: ${err.message}`));
    });
  }

  private archivePending(): void {
    for (const file of this.toArchive.splice(0)) {
      const job = gzipAndRemove(file).then(
        () => (this.removed.has(file) ? fs.promises.rm(`${file}.gz`, { force: true }) : undefined),
        (err: unknown) => {
          this.emit(
            'warn',
            new Error(`cannot compress rotated log ${file}: ${err instanceof Error ? err.message : String(err)}`),
          );
        },
      );
      this.archiving.add(job);
      void job.finally(() => this.archiving.delete(job));
    }
  }

  override close(): void {
    if (this.closing) return;
    this.closing = true;
    super.close?.();
  }

  /** Ends the file and resolves once every line is on disk and every rotated file is compressed. */
  async flush(): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      if (this.closing && this.closes > this.rotations) resolve();
      else this.closedWaiters.push(resolve);
    });
    this.close();
    await closed;
    while (this.archiving.size > 0) await Promise.all([...this.archiving]);
  }
}

async function gzipAndRemove(file: string): Promise<void> {
  try {
    await fs.promises.access(file);
  } catch {
    return; // already removed by retention
  }
  await pipeline(fs.createReadStream(file), createGzip(), fs.createWriteStream(`${file}.gz`, { mode: FILE_MODE }));
  await fs.promises.unlink(file);
}
