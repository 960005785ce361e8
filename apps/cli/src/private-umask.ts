/**
 * Commands that write into the data directory (serve, db, doctor, logs, token …) create files the owner's only:
 * with umask 077 even a file created by a library that never sets a mode (SQLite's database, the log rotation's
 * files) is 0600 and a folder 0700. The code sets modes explicitly too; this covers what it cannot reach.
 */
export function usePrivateUmask(): void {
  process.umask(0o077);
}
