#!/usr/bin/env bash
# Newcomer command #2 (and what CI runs): set everything up, then check formatting, lint (typed, with the
# package boundaries), typecheck, look for dead code (knip) and run the tests.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/tooling/setup.sh"
. "$ROOT/tooling/env.sh"
cd "$ROOT"
pnpm run -s format:check
pnpm run -s lint
pnpm run -s typecheck
pnpm run -s knip
pnpm run -s test "$@"
