import type BetterSqlite3 from 'better-sqlite3';

/**
 * Distinct SQL texts kept prepared per connection. The store's queries are a fixed set (a few hundred at most);
 * only `IN (…)` lists of varying length make new texts, and those are the ones evicted.
 */
const STATEMENT_CACHE_SIZE = 500;

/**
 * The connection as drizzle should see it: `prepare(sql)` hands back the statement prepared for that text before
 * (least recently used ones evicted past `max`), everything else is the connection itself.
 *
 * Why: drizzle prepares a new statement for every query it runs, and a statement's native memory (its
 * `sqlite3_stmt`, several KB) is freed only when V8 collects the JavaScript object. On a worker thread that did
 * not happen in step with the queries: the router's candidate worker grew by ~25 KB per ranking, ~1 MB a minute
 * under the soak's load, and never gave it back (docs/benchmarks.md, "Native memory per query"). Preparing once
 * per text also saves the parse and plan of every call.
 *
 * A cached statement is reset to plain rows when handed out (drizzle switches its selects to `raw()` arrays and
 * leaves them so). One that is busy — an `iterate()` still open over it — is not shared: the caller gets a fresh
 * statement of its own.
 */
export function cachingClient(sqlite: BetterSqlite3.Database, max = STATEMENT_CACHE_SIZE): BetterSqlite3.Database {
  const cache = new Map<string, BetterSqlite3.Statement>();
  const client: BetterSqlite3.Database = Object.create(sqlite) as BetterSqlite3.Database;
  const prepare = (source: string): BetterSqlite3.Statement => {
    const hit = cache.get(source);
    if (hit !== undefined && !hit.busy) {
      // Most recently used last: Map keeps insertion order, so the first key is the one to evict.
      cache.delete(source);
      cache.set(source, hit);
      if (hit.reader) hit.raw(false);
      return hit;
    }
    const stmt = sqlite.prepare(source);
    if (hit === undefined) {
      cache.set(source, stmt);
      if (cache.size > max) {
        const oldest = cache.keys().next().value;
        if (oldest !== undefined) cache.delete(oldest);
      }
    }
    return stmt;
  };
  Object.defineProperty(client, 'prepare', { value: prepare });
  return client;
}
