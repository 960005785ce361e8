#!/usr/bin/env bash
# Cuts a release: ./tooling/release.sh 0.2.0
# Checks the tree is clean and on main, runs the full test command, sets the version in every package,
# moves the CHANGELOG's [Unreleased] section under the new version with today's date, builds (stamping
# version, commit and date), commits and tags v<version>. Pushing is left to the owner.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
version="${1:-}"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || { echo "usage: tooling/release.sh MAJOR.MINOR.PATCH" >&2; exit 64; }
[ -z "$(git status --porcelain)" ] || { echo "release: the working tree has changes; commit or stash them first" >&2; exit 1; }
git rev-parse -q --verify "refs/tags/v$version" >/dev/null && { echo "release: tag v$version exists already" >&2; exit 1; }
grep -q '^## \[Unreleased\]' CHANGELOG.md || { echo "release: CHANGELOG.md has no [Unreleased] section" >&2; exit 1; }
if [ "${ALTER0_RELEASE_SKIP_TESTS:-}" != "1" ]; then ./tooling/test.sh; fi
. tooling/env.sh
node -e '
  const fs = require("fs"); const path = require("path"); const v = process.argv[1];
  const files = ["package.json", ...["packages","apps","tooling"].flatMap(d => fs.existsSync(d) ? (fs.statSync(d).isDirectory() && fs.existsSync(path.join(d,"package.json")) ? [path.join(d,"package.json")] : fs.readdirSync(d).map(n => path.join(d, n, "package.json")).filter(f => fs.existsSync(f))) : [])];
  for (const f of files) { const p = JSON.parse(fs.readFileSync(f, "utf8")); p.version = v; fs.writeFileSync(f, JSON.stringify(p, null, 2) + "\n"); }
' "$version"
today="$(date -u +%Y-%m-%d)"
sed -i "s/^## \[Unreleased\]/## [Unreleased]\n\n## [$version] - $today/" CHANGELOG.md
pnpm run -s build
git add -A
git commit -qm "release $version"
git tag -a "v$version" -m "alter0 $version"
echo "released $version ($(git rev-parse --short HEAD)); push with: git push && git push --tags"
