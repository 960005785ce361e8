#!/usr/bin/env bash
# Newcomer command #1: set everything up, then run the service in this process (exec: no wrapper
# process stays between the caller or a supervisor and the daemon). Extra arguments go to `alter0 serve`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/tooling/setup.sh"
. "$ROOT/tooling/env.sh"
# Through the entry shim: it gives the daemon its own V8 flags and starts it without the full CLI.
exec node "$ROOT/apps/cli/bin/alter0.js" serve "$@"
