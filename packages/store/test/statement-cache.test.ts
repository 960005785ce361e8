import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { desc, eq, inArray } from 'drizzle-orm';
import { cachingClient } from '../src/statement-cache.js';
import { Store } from '../src/store.js';
import { tasks } from '../src/schema.js';

let dir: string;
let sqlite: Database.Database;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alter0-stmt-'));
  const file = path.join(dir, 'alter0.db');
  Store.open({ file }).close();
  sqlite = new Database(file);
  const add = sqlite.prepare(
    `INSERT INTO tasks (id, title, state, executor, workspace, user_id, created_at, updated_at) VALUES (?, ?, 'open', 'claude', '/w', 'owner', ?, ?)`,
  );
  for (let i = 0; i < 5; i++) add.run(`t_${i}`, `task ${i}`, i, i);
});
afterEach(() => {
  sqlite.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Counts the statements the real connection prepares. */
function counted(): { client: Database.Database; prepared: () => number } {
  let n = 0;
  const real = sqlite.prepare.bind(sqlite);
  Object.defineProperty(sqlite, 'prepare', {
    configurable: true,
    value: (source: string) => {
      n++;
      return real(source);
    },
  });
  return { client: cachingClient(sqlite, 3), prepared: () => n };
}

describe('the statement cache drizzle runs its queries through', () => {
  it('prepares each SQL text once, however often drizzle runs it (a statement per query was native memory a worker thread never gave back)', () => {
    const { client, prepared } = counted();
    const db = drizzle(client);
    for (let i = 0; i < 100; i++) {
      expect(
        db
          .select()
          .from(tasks)
          .where(eq(tasks.id, `t_${i % 5}`))
          .get()?.title,
      ).toBe(`task ${i % 5}`);
    }
    expect(prepared()).toBe(1);
  });

  it('hands back plain rows after drizzle switched the same statement to arrays', () => {
    const { client } = counted();
    const db = drizzle(client);
    // drizzle's select with fields runs `raw()` (arrays); a later user of the same text wants objects.
    expect(db.select({ id: tasks.id }).from(tasks).orderBy(desc(tasks.id)).limit(1).all()).toEqual([{ id: 't_4' }]);
    const source = db.select({ id: tasks.id }).from(tasks).orderBy(desc(tasks.id)).limit(1).toSQL().sql;
    expect(client.prepare(source).get(1)).toEqual({ id: 't_4' });
  });

  it('keeps only the most recently used texts: IN lists of every length do not pile up', () => {
    const { client, prepared } = counted();
    const db = drizzle(client);
    const byIds = (n: number): number =>
      db
        .select()
        .from(tasks)
        .where(
          inArray(
            tasks.id,
            Array.from({ length: n }, (_, i) => `t_${i}`),
          ),
        )
        .all().length;
    for (let n = 1; n <= 5; n++) expect(byIds(n)).toBe(n); // 5 texts, a cache of 3
    expect(prepared()).toBe(5);
    expect(byIds(5)).toBe(5); // still cached
    expect(byIds(4)).toBe(4);
    expect(prepared()).toBe(5);
    expect(byIds(1)).toBe(1); // evicted: prepared again
    expect(prepared()).toBe(6);
  });

  it('gives a statement an open iterate() holds to no one else', () => {
    const { client, prepared } = counted();
    const source = 'SELECT id FROM tasks ORDER BY id';
    const it1 = client.prepare(source).iterate() as IterableIterator<{ id: string }>;
    expect(it1.next().value).toEqual({ id: 't_0' });
    // The same text while the first is mid-iteration: a statement of its own, not "This statement is busy".
    expect((client.prepare(source).all() as { id: string }[]).map((r) => r.id)).toEqual([
      't_0',
      't_1',
      't_2',
      't_3',
      't_4',
    ]);
    expect(it1.next().value).toEqual({ id: 't_1' });
    it1.return?.();
    expect(prepared()).toBe(2);
    expect(client.prepare(source).all()).toHaveLength(5);
    expect(prepared()).toBe(2);
  });

  it('is the connection for everything else (transactions, pragmas)', () => {
    const { client } = counted();
    const add = client.transaction((id: string) => {
      client.prepare(`UPDATE tasks SET title = 'x' WHERE id = ?`).run(id);
    });
    add('t_1');
    expect(client.pragma('foreign_keys', { simple: true })).toBe(sqlite.pragma('foreign_keys', { simple: true }));
    expect(sqlite.prepare(`SELECT title FROM tasks WHERE id = 't_1'`).pluck().get()).toBe('x');
    expect(client.open).toBe(true);
  });
});
