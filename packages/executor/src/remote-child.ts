import { EventEmitter } from 'node:events';
import { Readable, Writable } from 'node:stream';
import { ExecutorError } from '@alter0/core';
import { RunGroups } from './process-group.js';
import type { SpawnedChild } from './run-process.js';
import type { FromHelper, ToHelper } from './spawner-protocol.js';

type Send = (msg: ToHelper, done: () => void) => void;

/**
 * A child that runs in the spawner's helper process, seen from here: its pid once the helper started it, its
 * stdin forwarded to the helper, its stdout/stderr and exit relayed back in the order the helper saw them.
 */
export class RemoteChild extends EventEmitter implements SpawnedChild {
  pid: number | undefined = undefined;
  readonly stdin: Writable;
  readonly stdout = new Readable({ read: () => undefined });
  readonly stderr = new Readable({ read: () => undefined });
  readonly #ended = { 1: false, 2: false };
  #exited = false;
  #released = false;
  #dropped = false;

  constructor(
    readonly id: number,
    private readonly send: Send,
    private readonly drop: () => void,
  ) {
    super();
    this.stdin = new Writable({
      write: (chunk: Buffer, _enc, cb) => send({ t: 'stdin', id, data: chunk }, () => cb()),
      final: (cb) => send({ t: 'stdin-end', id }, () => cb()),
    });
    // The run is done with the pipes once both are closed (read to the end, or destroyed after a stop).
    let open = 2;
    const closed = (): void => {
      open -= 1;
      if (open > 0) return;
      this.#released = true;
      if (this.pid !== undefined) send({ t: 'release', id }, () => undefined);
      this.#maybeDrop();
    };
    this.stdout.once('close', closed);
    this.stderr.once('close', closed);
  }

  deliver(msg: Exclude<FromHelper, { t: 'ready' }>): void {
    switch (msg.t) {
      case 'spawned':
        this.pid = msg.pid;
        this.emit('spawn');
        return;
      case 'spawn-error':
        this.#exited = true;
        this.#endStreams();
        this.emit('error', Object.assign(new Error(msg.message), { code: msg.code ?? undefined }));
        this.#dropNow();
        return;
      case 'data':
        if (!this.#ended[msg.fd])
          this.#stream(msg.fd).push(Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength));
        return;
      case 'eof':
        this.#end(msg.fd);
        return;
      case 'exit':
        this.#exited = true;
        // A child that exits at once has its 'spawned' and 'exit' arrive in one batch, handled in one turn: the
        // exit waits for the turn after, so a listener added in the continuation that 'spawn' resumed (runProcess
        // awaits the spawn, then listens for the exit) still hears it. node's own child emits them turns apart.
        setImmediate(() => {
          this.emit('exit', msg.code, msg.signal);
          this.#maybeDrop();
        });
    }
  }

  /**
   * The helper died: nothing more will be heard of this child. Its groups are SIGKILLed (the helper cannot), and
   * the run learns it through an ExecutorError, then an exit, so it fails `internal` without waiting.
   */
  lose(why: string): void {
    if (this.pid !== undefined) new RunGroups(this.pid).signal('SIGKILL');
    const what = this.pid === undefined ? why : `${why}; its process group (${this.pid}) was killed`;
    if (this.listenerCount('error') > 0) this.emit('error', new ExecutorError('internal', what));
    this.#endStreams();
    if (!this.#exited && this.pid !== undefined) {
      this.#exited = true;
      this.emit('exit', null, 'SIGKILL');
    }
    this.#dropNow();
  }

  #stream(fd: 1 | 2): Readable {
    return fd === 1 ? this.stdout : this.stderr;
  }

  #end(fd: 1 | 2): void {
    if (this.#ended[fd]) return;
    this.#ended[fd] = true;
    this.#stream(fd).push(null);
  }

  #endStreams(): void {
    this.#end(1);
    this.#end(2);
  }

  #maybeDrop(): void {
    if (this.#exited && this.#released) this.#dropNow();
  }

  #dropNow(): void {
    if (this.#dropped) return;
    this.#dropped = true;
    this.drop();
  }
}
