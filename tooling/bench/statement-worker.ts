// The worker of tooling/bench/statement-bench.ts: the store and the router's two candidate queries, as in the
// daemon's candidates worker (apps/daemon/src/candidates-worker.ts), run by tinypool.
import { drizzle } from 'drizzle-orm/better-sqlite3';
import * as schema from '@alter0/store';
import { Store, openDb } from '@alter0/store';

export type Statements = 'per-query' | 'cached';
export interface Call {
  file: string;
  statements: Statements;
}

let store: Store | null = null;

/** Opens the store once, either with the store's statement cache or drizzle's own statement per query. */
function storeFor(c: Call): Store {
  if (store !== null) return store;
  const opened = openDb({ file: c.file, readonly: true, migrate: false });
  store = new Store(c.file, c.statements === 'cached' ? opened : { ...opened, db: drizzle(opened.sqlite, { schema }) });
  return store;
}

export default function candidateQueries(c: Call): number {
  const s = storeFor(c);
  return s.tasks.open().length + s.tasks.closedSince(Date.now() - 7 * 86_400_000).length;
}
