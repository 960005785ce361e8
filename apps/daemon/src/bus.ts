import { EventEmitter } from 'node:events';

export type BusEvent = { type: 'job'; id: string } | { type: 'task'; id: string } | { type: 'approval'; id: string };

/**
 * In-process change notifications: the sync endpoint waits on them and the SSE stream forwards them.
 * Only ids travel; listeners read the committed row, so nothing uncommitted is ever shown.
 */
export class Bus {
  private readonly emitter = new EventEmitter();

  constructor() {
    // One listener per SSE client and per waiting request.
    this.emitter.setMaxListeners(0);
  }

  job(id: string): void {
    this.emitter.emit('event', { type: 'job', id } satisfies BusEvent);
  }

  task(id: string): void {
    this.emitter.emit('event', { type: 'task', id } satisfies BusEvent);
  }

  approval(id: string): void {
    this.emitter.emit('event', { type: 'approval', id } satisfies BusEvent);
  }

  subscribe(fn: (e: BusEvent) => void): () => void {
    this.emitter.on('event', fn);
    return () => this.emitter.off('event', fn);
  }
}
