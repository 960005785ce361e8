// The spawner's helper process: a small Node program that forks and execs the agents, so that the daemon's event
// loop never does (fork of a big process's page tables blocks the caller 10–30 ms). Started by `Spawner` with an
// IPC channel; it imports nothing but node builtins, ./proc.js and ./job-sweep.js, so it starts fast. It also runs
// the daemon's job-id sweeps (Spawner.sweepJob): thousands of /proc reads that would block the daemon's loop.
//
// It dies with the daemon: when the channel closes (the daemon exited, was SIGKILLed, or closed the spawner) it
// SIGKILLs the process group of every child it started, and the groups of their trees, then exits.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { isJobId, killJobProcesses } from './job-sweep.js';
import { treeGroups } from './proc.js';
import type { FromHelper, ToHelper } from './spawner-protocol.js';

interface Child {
  proc: ChildProcess;
  /** The child's pid, which is its process group (detached); null until it runs. */
  pgid: number | null;
  exited: boolean;
  released: boolean;
}

const children = new Map<number, Child>();

function send(msg: FromHelper, done?: () => void): boolean {
  if (process.send === undefined || !process.connected) return false;
  return process.send(msg, undefined, {}, () => done?.());
}

function forget(id: number, c: Child): void {
  if (c.exited && c.released) children.delete(id);
}

/** Relays a pipe's chunks in order; pauses the pipe while the channel has a backlog. */
function relay(id: number, fd: 1 | 2, stream: Readable): void {
  stream.on('data', (chunk: Buffer) => {
    if (!send({ t: 'data', id, fd, data: chunk }, () => stream.resume())) stream.pause();
  });
  stream.on('error', () => undefined);
  stream.once('close', () => send({ t: 'eof', id, fd }));
}

function start(msg: Extract<ToHelper, { t: 'spawn' }>): void {
  const { id } = msg;
  let proc: ChildProcess;
  try {
    proc = spawn(msg.program, msg.args, { cwd: msg.cwd, env: msg.env, detached: true, stdio: 'pipe' });
  } catch (err) {
    spawnFailed(id, err);
    return;
  }
  const c: Child = { proc, pgid: null, exited: false, released: false };
  children.set(id, c);
  // The child may exit without reading its stdin: EPIPE is expected.
  proc.stdin?.on('error', () => undefined);
  proc.once('error', (err) => {
    if (c.pgid !== null) return;
    children.delete(id);
    spawnFailed(id, err);
  });
  proc.once('spawn', () => {
    c.pgid = proc.pid ?? null;
    send({ t: 'spawned', id, pid: proc.pid ?? -1 });
    if (proc.stdout !== null) relay(id, 1, proc.stdout);
    if (proc.stderr !== null) relay(id, 2, proc.stderr);
  });
  proc.once('exit', (code, signal) => {
    c.exited = true;
    send({ t: 'exit', id, code, signal });
    forget(id, c);
  });
}

function spawnFailed(id: number, err: unknown): void {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : null;
  send({ t: 'spawn-error', id, code, message: err instanceof Error ? err.message : String(err) });
}

/** Kills what carries the job's id; spares the daemon (`self`) and its ancestors, and this helper. */
function sweep(msg: Extract<ToHelper, { t: 'sweep' }>): void {
  const { id } = msg;
  if (!isJobId(msg.jobId) || !Number.isInteger(msg.self) || msg.self <= 1) {
    send({
      t: 'sweep-error',
      id,
      message: `bad sweep request (job id ${JSON.stringify(msg.jobId)}, self ${msg.self})`,
    });
    return;
  }
  try {
    send({ t: 'swept', id, killed: killJobProcesses(msg.jobId, msg.self, [process.pid]) });
  } catch (err) {
    send({ t: 'sweep-error', id, message: err instanceof Error ? err.message : String(err) });
  }
}

function onMessage(msg: ToHelper): void {
  if (msg.t === 'spawn') {
    start(msg);
    return;
  }
  if (msg.t === 'sweep') {
    sweep(msg);
    return;
  }
  const c = children.get(msg.id);
  if (c === undefined) return;
  if (msg.t === 'stdin') c.proc.stdin?.write(msg.data);
  else if (msg.t === 'stdin-end') c.proc.stdin?.end();
  else {
    c.released = true;
    c.proc.stdin?.destroy();
    c.proc.stdout?.destroy();
    c.proc.stderr?.destroy();
    forget(msg.id, c);
  }
}

/** The daemon is gone: nothing will supervise these agents any more. One snapshot of every tree, then SIGKILL. */
function killAll(): void {
  const groups = new Set<number>();
  for (const c of children.values()) {
    if (c.pgid !== null && c.pgid > 1) for (const g of treeGroups(c.pgid)) groups.add(g);
  }
  const own = process.pid;
  for (const g of groups) {
    if (g <= 1 || g === own) continue;
    try {
      process.kill(-g, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

if (process.send === undefined) {
  process.stderr.write('spawner-helper: must be started by @alter0/executor Spawner (with an IPC channel)\n');
  process.exit(2);
}
// A Ctrl-C or a service manager's SIGTERM to the daemon's group must not end the agents' supervision before the
// daemon's own graceful stop: the helper leaves only when its channel closes.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => undefined);
process.on('message', (msg: ToHelper) => onMessage(msg));
process.once('disconnect', () => {
  killAll();
  process.exit(0);
});
send({ t: 'ready', pid: process.pid });
