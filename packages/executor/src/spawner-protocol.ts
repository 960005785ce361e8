// The messages between a Spawner (in the daemon) and its helper process, over the IPC channel with 'advanced'
// serialization (Buffers pass as they are). Types only: the helper's module graph gains nothing from it.

/** Daemon → helper. `id` names one child for the life of the helper. */
export type ToHelper =
  | {
      t: 'spawn';
      id: number;
      program: string;
      args: readonly string[];
      cwd: string;
      env: Readonly<Record<string, string>>;
    }
  | { t: 'stdin'; id: number; data: Uint8Array }
  | { t: 'stdin-end'; id: number }
  /** The run is done with the child's pipes; the helper closes its ends. */
  | { t: 'release'; id: number }
  /**
   * SIGKILL every process that carries job `jobId` in its environment, sparing `self` (the daemon's pid) and its
   * ancestors, and the helper; `id` names the request (its own numbering, apart from the children's).
   */
  | { t: 'sweep'; id: number; jobId: string; self: number };

/** Helper → daemon, in the order the helper saw them. */
export type FromHelper =
  | { t: 'ready'; pid: number }
  | { t: 'spawned'; id: number; pid: number }
  | { t: 'spawn-error'; id: number; code: string | null; message: string }
  | { t: 'data'; id: number; fd: 1 | 2; data: Uint8Array }
  | { t: 'eof'; id: number; fd: 1 | 2 }
  | { t: 'exit'; id: number; code: number | null; signal: NodeJS.Signals | null }
  /** The answer to a `sweep`: how many processes were killed, or why the sweep failed. */
  | { t: 'swept'; id: number; killed: number }
  | { t: 'sweep-error'; id: number; message: string };

/** The answers to a request that is not about one child. */
export type SweepReply = Extract<FromHelper, { t: 'swept' | 'sweep-error' }>;
