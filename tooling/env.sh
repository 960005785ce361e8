# Sourced by the tooling scripts: puts a Node >= 22 and pnpm on PATH.
# Prefers the system Node when it is new enough; otherwise uses the project-local one that
# tooling/setup.sh installs from the npm registry into .tools/ (git-ignored).
ALTER0_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=versions.env
. "$ALTER0_ROOT/tooling/versions.env"
ALTER0_TOOLS="$ALTER0_ROOT/.tools"
if [ -x "$ALTER0_TOOLS/node/bin/node" ]; then
  export PATH="$ALTER0_TOOLS/node/bin:$PATH"
fi
if [ -x "$ALTER0_TOOLS/pnpm/node_modules/.bin/pnpm" ]; then
  export PATH="$ALTER0_TOOLS/pnpm/node_modules/.bin:$PATH"
fi
export PATH="$ALTER0_ROOT/node_modules/.bin:$PATH"
# Native addons (better-sqlite3) must build against the headers of the Node that runs them,
# not whatever nodedir a global npmrc names.
if command -v node >/dev/null 2>&1; then
  _alter0_node_prefix="$(cd "$(dirname "$(command -v node)")/.." && pwd)"
  if [ -f "$_alter0_node_prefix/include/node/node.h" ]; then
    export npm_config_nodedir="$_alter0_node_prefix"
  fi
  unset _alter0_node_prefix
fi
