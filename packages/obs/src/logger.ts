import { Writable } from 'node:stream';
import winston from 'winston';
import { RotatingFileTransport } from './rotating-file.js';
import { toJsonLine } from './serialize.js';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
const RANK: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3 };

/**
 * The fields that say which unit of work a record is about. They are bound once with
 * `child(...)` and carried with the job, never typed at each call.
 */
export interface LogContext {
  session_id?: string | null;
  task_id?: string | null;
  job_id?: string | null;
  stage?: string | null;
  user_id?: string | null;
  channel_id?: string | null;
  /** Which part of alter0 speaks (gateway, queue, scheduler, ...). */
  component?: string | null;
}

type ContextKey = keyof LogContext;

/** Per-call fields. Context keys are refused here so they only ever come from child(). An Error under `err` (or anywhere) is serialized. */
export type LogFields = { readonly [K in ContextKey]?: never } & { readonly [key: string]: unknown };

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `context` to every record; the parent is unchanged. */
  child(context: LogContext): Logger;
  isLevelEnabled(level: LogLevel): boolean;
  /** Flushes and closes every destination (shared by all children). Records logged afterwards go to the console stream only. */
  close(): Promise<void>;
}

export interface LoggerOptions {
  level: LogLevel;
  /** Folder for the rotated files; null = no file. */
  dir: string | null;
  /** Rotate a day's file when it grows past this ("20m"). */
  maxSize: string;
  /** Keep this many files ("10") or days ("14d"). */
  maxFiles: string;
  /** Write records to stderr (journald, docker). */
  console: boolean;
  /** One more destination for the same JSON lines (tests, a live tail). */
  stream?: NodeJS.WritableStream;
  /** A destination failed (disk full, file removed); logging goes on with the others. Default: a line on stderr. */
  onError?: (err: Error) => void;
  /** Clock, for tests. */
  now?: () => Date;
  /** Hides secrets in every string of every record, on every destination (the daemon's one redactor). */
  redact?: (text: string) => string;
}

const MESSAGE = Symbol.for('message');
const LEVEL = Symbol.for('level');

/** JSON-lines logger: stderr, an optional extra stream, and daily + size rotated files with gzip and retention. */
export function createLogger(opts: LoggerOptions): Logger {
  if (!(LOG_LEVELS as readonly string[]).includes(opts.level)) {
    throw new TypeError(`unknown log level ${JSON.stringify(opts.level)}; use one of ${LOG_LEVELS.join(', ')}`);
  }
  const now = opts.now ?? (() => new Date());
  const onError =
    opts.onError ??
    ((err: Error) => {
      process.stderr.write(
        `${toJsonLine({ time: now().toISOString(), level: 'error', message: 'log destination failed', err }, opts.redact)}\n`,
      );
    });
  const { w, file } = openDestinations(opts, onError);

  let closing: Promise<void> | null = null;
  const fallback = opts.console ? process.stderr : (opts.stream ?? null);

  const write = (level: LogLevel, context: LogContext, msg: string, fields: LogFields | undefined): void => {
    if (RANK[level] < RANK[opts.level]) return;
    const record: Record<string, unknown> = { time: now().toISOString(), level, message: msg };
    for (const [k, v] of Object.entries(context)) if (v !== undefined && v !== null) record[k] = v;
    if (fields !== undefined) for (const [k, v] of Object.entries(fields)) if (v !== undefined) record[k] = v;
    const line = toJsonLine(record, opts.redact);
    if (closing !== null) {
      fallback?.write(`${line}\n`);
      return;
    }
    w.write({ level, message: msg, [LEVEL]: level, [MESSAGE]: line });
  };

  const close = (): Promise<void> => {
    closing ??= (async () => {
      const finished = new Promise<void>((resolve) => {
        w.once('finish', () => resolve());
      });
      w.end();
      await finished;
      if (file !== null) await file.flush();
    })();
    return closing;
  };

  const make = (context: LogContext): Logger => ({
    debug: (msg, fields) => write('debug', context, msg, fields),
    info: (msg, fields) => write('info', context, msg, fields),
    warn: (msg, fields) => write('warn', context, msg, fields),
    error: (msg, fields) => write('error', context, msg, fields),
    child: (more) => make({ ...context, ...more }),
    isLevelEnabled: (level) => RANK[level] >= RANK[opts.level],
    close,
  });
  return make({});
}

/** The destinations every record goes to: stderr, the extra stream, the rotated files; winston only routes. */
function openDestinations(
  opts: LoggerOptions,
  onError: (err: Error) => void,
): { w: winston.Logger; file: RotatingFileTransport | null } {
  const transports: winston.transport[] = [];
  if (opts.console) transports.push(new winston.transports.Stream({ stream: process.stderr }));
  if (opts.stream !== undefined) transports.push(new winston.transports.Stream({ stream: opts.stream }));
  const file =
    opts.dir === null
      ? null
      : new RotatingFileTransport({ dir: opts.dir, maxSize: opts.maxSize, maxFiles: opts.maxFiles });
  if (file !== null) {
    file.on('warn', (err: Error) => onError(err));
    transports.push(file);
  }
  // The record is serialized before it reaches winston; winston only routes it (identity format).
  const w = winston.createLogger({
    level: 'debug',
    levels: { error: 0, warn: 1, info: 2, debug: 3 },
    format: winston.format((info) => info)(),
    transports,
    exitOnError: false,
  });
  w.on('error', (err: unknown) => onError(err instanceof Error ? err : new Error(String(err))));

  return { w, file };
}

/** A logger that drops everything, for callers that do not care (and tests of other packages). */
export function nullLogger(): Logger {
  const self: Logger = {
    debug: () => {},
    info: () => {},
    warn: () => {},
    error: () => {},
    child: () => self,
    isLevelEnabled: () => false,
    close: () => Promise.resolve(),
  };
  return self;
}

/** A Writable that keeps the lines written to it, for tests and the status page's recent-log view. */
export class LineBuffer extends Writable {
  readonly lines: string[] = [];
  private partial = '';
  constructor(private readonly max = 10_000) {
    super();
  }
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    const text = this.partial + chunk.toString();
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    this.lines.push(...parts);
    if (this.lines.length > this.max) this.lines.splice(0, this.lines.length - this.max);
    done();
  }
}
