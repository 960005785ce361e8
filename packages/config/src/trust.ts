import type fs from 'node:fs';

/** The user alter0 runs as, or null where there are no POSIX user ids (then nothing is checked). */
export function currentUid(): number | null {
  return typeof process.getuid === 'function' ? process.getuid() : null;
}

const octal = (mode: number): string => (mode & 0o7777).toString(8).padStart(4, '0');

/**
 * Why another user could change a file or directory alter0 acts on (its data directory, config file, token file,
 * recorded process groups), or null when no one else can: it must belong to the user alter0 runs as (or to root,
 * who can change anything anyway) and must not be writable by its group or by others. A planted config file runs
 * its `executor.command.argv`; a planted process-group record gets a process killed.
 *
 * `what` names the thing in the message ("data directory", "config file" …); the message ends with the fix.
 */
export function trustProblem(
  p: string,
  st: Pick<fs.Stats, 'uid' | 'mode' | 'isDirectory'>,
  what: string,
  uid: number | null = currentUid(),
): string | null {
  if (uid === null) return null;
  const dir = st.isDirectory();
  if (st.uid !== uid && st.uid !== 0) {
    return (
      `${what} ${p} belongs to uid ${st.uid}, not to the user alter0 runs as (uid ${uid}), so that user can change what alter0 does; ` +
      `make it yours: chown ${uid} ${p}${dir ? ` && chmod 700 ${p}` : ` && chmod 600 ${p}`} (after checking its contents)`
    );
  }
  if ((st.mode & 0o022) !== 0) {
    return (
      `${what} ${p} has mode ${octal(st.mode)}: other users can write to it and change what alter0 does; ` +
      `run: chmod ${dir ? '700' : '600'} ${p} (after checking its contents)`
    );
  }
  return null;
}
