import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';

const SQLITE3 = '/usr/bin/sqlite3';
const HELD = 'soak-held';

/**
 * The real `sqlite3` shell on the daemon's database, holding a transaction open the way an owner's forgotten
 * shell would: `sql` opens it (`BEGIN; SELECT …` for a read, `BEGIN IMMEDIATE` for the write lock); the shell
 * waits up to `lockWaitMs` for a lock and exits on the first error (`.bail on`), so `start` resolves only once the
 * transaction is really held.
 */
export class SqliteHolder {
  private out = '';
  private err = '';

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.on('data', (b: Buffer) => (this.out = (this.out + b.toString()).slice(-4000)));
    child.stderr.on('data', (b: Buffer) => (this.err = (this.err + b.toString()).slice(-4000)));
    child.stdin.on('error', () => undefined);
  }

  /** Whether the shell is installed here (the held-database moments are skipped without it). */
  static available(): boolean {
    try {
      fs.accessSync(SQLITE3, fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  }

  static async start(dbFile: string, sql: string, lockWaitMs: number, signal: AbortSignal): Promise<SqliteHolder> {
    const h = new SqliteHolder(spawn(SQLITE3, [dbFile], { stdio: ['pipe', 'pipe', 'pipe'] }));
    h.child.stdin.write(`.bail on\n.timeout ${lockWaitMs}\n${sql}\nSELECT '${HELD}';\n`);
    const end = Date.now() + lockWaitMs + 5000;
    while (!h.out.includes(HELD)) {
      if (h.child.exitCode !== null || h.child.signalCode !== null || Date.now() > end || signal.aborted) {
        await h.release();
        throw new Error(`sqlite3 did not hold the transaction (${sql}): ${h.err.trim() || 'no error printed'}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return h;
  }

  /** Ends the transaction and the shell (SIGKILL when it does not exit within 5 s); what it printed on stderr. */
  async release(): Promise<string> {
    const exited = new Promise<void>((r) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) r();
      else this.child.once('exit', () => r());
    });
    if (this.child.stdin.writable) this.child.stdin.end('ROLLBACK;\n.quit\n');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    return this.err.trim();
  }
}
