import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { Store } from '../src/store.js';

let dir = '';
let store: Store | null = null;
afterEach(() => {
  store?.close();
  store = null;
  fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * The watchdog pings only while `writable()` holds. Found by the day soak: with another program holding the write
 * lock (`sqlite3 alter0.db` with `BEGIN IMMEDIATE;` open), each probe waited out the 5 s busy timeout and failed, so
 * the pings stopped and the watchdog killed a daemon that was not hung.
 */
it('answers at once and true while another program holds the write lock, and keeps the busy timeout for real writes', () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alter0-writable-'));
  const file = path.join(dir, 'alter0.db');
  store = Store.open({ file });
  expect(store.writable()).toBe(true);
  const other = new Database(file);
  other.exec('BEGIN IMMEDIATE');
  try {
    const t0 = performance.now();
    expect(store.writable()).toBe(true);
    expect(performance.now() - t0).toBeLessThan(1000);
    // The probe put the connection's own busy timeout back: a write still waits for the lock as before.
    expect(Number(store.opened.sqlite.pragma('busy_timeout', { simple: true }))).toBe(
      store.opened.pragmas.busyTimeoutMs,
    );
  } finally {
    other.exec('ROLLBACK');
    other.close();
  }
  expect(store.writable()).toBe(true);
});

it('is false when the database cannot take writes (a read-only file)', () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alter0-writable-'));
  const file = path.join(dir, 'alter0.db');
  Store.open({ file }).close();
  store = Store.open({ file });
  // A connection that can no longer write, as after the file system went read-only.
  store.opened.sqlite.pragma('query_only = ON');
  expect(store.writable()).toBe(false);
});
