#!/usr/bin/env bash
# Sets up a fresh checkout: a Node >= 22 (from the npm registry when the system one is older),
# pnpm, the dependencies (frozen lockfile), and a build of every package and app.
# Idempotent: a second run only does what is missing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
. tooling/versions.env
TOOLS="$ROOT/.tools"
log() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

# 1. Node
if [ -x "$TOOLS/node/bin/node" ]; then
  log "using project-local Node $("$TOOLS/node/bin/node" --version)"
elif command -v node >/dev/null 2>&1 && [ "$(node_major node)" -ge "$ALTER0_NODE_MIN_MAJOR" ]; then
  log "using system Node $(node --version)"
else
  command -v npm >/dev/null 2>&1 || die "neither Node >= $ALTER0_NODE_MIN_MAJOR nor npm is on PATH; install Node.js (with npm) first"
  case "$(uname -m)" in
    x86_64|amd64) arch=x64 ;;
    aarch64|arm64) arch=arm64 ;;
    *) die "no Node package on the npm registry for architecture $(uname -m); install Node >= $ALTER0_NODE_MIN_MAJOR yourself" ;;
  esac
  pkg="node-linux-$arch@$ALTER0_NODE_VERSION"
  log "system Node is $(node --version 2>/dev/null || echo absent); installing $pkg from the npm registry into .tools/node"
  rm -rf "$TOOLS/node-install" && mkdir -p "$TOOLS/node-install"
  npm install --no-save --no-package-lock --prefix "$TOOLS/node-install" "$pkg" >&2 \
    || die "could not install $pkg from the npm registry (check the registry is reachable: npm ping)"
  rm -rf "$TOOLS/node"
  mv "$TOOLS/node-install/node_modules/node-linux-$arch" "$TOOLS/node"
  rm -rf "$TOOLS/node-install"
  "$TOOLS/node/bin/node" --version >/dev/null || die "the installed Node does not run"
  log "installed Node $("$TOOLS/node/bin/node" --version)"
fi

# 2. pnpm (a plain npm package; corepack is not relied on because newer Node versions drop it)
. tooling/env.sh
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$ALTER0_PNPM_VERSION" ]; then
  log "installing pnpm $ALTER0_PNPM_VERSION into .tools/pnpm"
  mkdir -p "$TOOLS/pnpm"
  npm install --no-save --no-package-lock --prefix "$TOOLS/pnpm" "pnpm@$ALTER0_PNPM_VERSION" >&2 \
    || die "could not install pnpm from the npm registry"
  . tooling/env.sh
fi

# 3. dependencies and build
log "node $(node --version), pnpm $(pnpm --version)"
pnpm install --frozen-lockfile --config.confirmModulesPurge=false >&2
pnpm run -s build >&2
log "ready"
