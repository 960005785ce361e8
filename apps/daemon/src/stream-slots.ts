/**
 * A cap on concurrent long-lived streams (`GET /api/events`): each one holds a socket, i.e. a file descriptor,
 * for as long as the client stays, and the process shares its descriptor limit with the database and the agents.
 */
export class StreamSlots {
  private open = 0;

  constructor(readonly max: number) {}

  get inUse(): number {
    return this.open;
  }

  /** A release function (safe to call more than once), or null when every slot is taken. */
  take(): (() => void) | null {
    if (this.open >= this.max) return null;
    this.open++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open--;
    };
  }
}
