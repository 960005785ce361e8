import fs from 'node:fs';

/** Shells that let no one log in. */
const NO_LOGIN = /(^|\/)(nologin|false|sync|halt|shutdown)$/;
/** Where regular accounts start on Debian, Ubuntu, Fedora, Arch (UID_MIN in /etc/login.defs). */
const FIRST_REGULAR_UID = 1000;
const NOBODY_UID = 65534;

/**
 * The other people who can log in to this machine, from a passwd file: accounts with a regular uid (1000 and up,
 * not nobody) and a login shell, other than `uid`. They can reach a loopback port as well as the owner can.
 * An unreadable file yields none (a container without /etc/passwd entries has no one else).
 */
export function otherLoginUsers(passwdFile: string, uid: number | null): string[] {
  let text: string;
  try {
    text = fs.readFileSync(passwdFile, 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const [name = '', , uidText = '', , , , shell = ''] = line.split(':');
    const id = Number(uidText);
    if (name === '' || name.startsWith('#') || !Number.isInteger(id)) continue;
    if (id < FIRST_REGULAR_UID || id === NOBODY_UID || id === uid) continue;
    if (shell === '' || NO_LOGIN.test(shell.trim())) continue;
    out.push(name);
  }
  return out;
}
