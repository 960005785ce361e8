#!/usr/bin/env bash
# Newcomer command #2 (and what CI runs): set everything up, then lint, typecheck and run the tests.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/tooling/setup.sh"
. "$ROOT/tooling/env.sh"
cd "$ROOT"
pnpm run -s lint
pnpm run -s typecheck
pnpm run -s test "$@"
