#!/usr/bin/env bash
# The reliability suite: builds the CLI (Release) when sources changed, then runs `lasthope reliability` with the
# arguments given (see docs/reliability.md). `scripts/reliability.sh --quick` is the short run CI makes.
# Exit code 0 when every bar held, 1 when one did not, 2 for bad arguments.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exec "$root/lasthope" reliability "$@"
