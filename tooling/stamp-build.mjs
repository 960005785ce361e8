// Stamps the build: version (the root package's semver), commit and build date, written next to the daemon's
// compiled code so `alter0 version`, /api/status and the build_info metric report them.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
let commit = process.env.ALTER0_BUILD_COMMIT || null;
if (!commit) {
  try {
    commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    if (dirty) commit += '-dirty';
  } catch {
    commit = null; // not a git checkout (e.g. a source tarball): the version alone identifies the build
  }
}
const info = { version, commit, built_at: new Date().toISOString() };
const out = path.join(root, 'apps/daemon/dist/build-info.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, `${JSON.stringify(info, null, 2)}\n`);
