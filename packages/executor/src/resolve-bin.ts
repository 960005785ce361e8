import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

/**
 * Resolve a program the way spawn will: a name containing a slash is a path (relative to `cwd`),
 * anything else is searched on the PATH of the child's environment. Null when nothing executable.
 */
export async function resolveBin(bin: string, pathEnv: string | undefined, cwd: string): Promise<string | null> {
  if (bin.includes('/')) {
    const p = isAbsolute(bin) ? bin : resolve(cwd, bin);
    return (await isExecutableFile(p)) ? p : null;
  }
  for (const dir of (pathEnv ?? '').split(delimiter)) {
    if (dir === '') continue;
    const p = join(dir, bin);
    if (await isExecutableFile(p)) return p;
  }
  return null;
}

async function isExecutableFile(p: string): Promise<boolean> {
  try {
    const st = await stat(p);
    if (!st.isFile()) return false;
    await access(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
