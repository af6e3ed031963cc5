#!/usr/bin/env bash
# Runs every test project and ends with one line "N passed, N failed" (the sum over all test projects).
# Extra arguments go to `dotnet test`; for one project use `dotnet test --project tests/NAME`.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
dotnet test --solution Lasthope.slnx -c Release "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
passed=$(grep -E '^\s*succeeded:\s*[0-9]+' "$log" | tail -n 1 | grep -oE '[0-9]+' || true)
failed=$(grep -E '^\s*failed:\s*[0-9]+' "$log" | tail -n 1 | grep -oE '[0-9]+' || true)
if [ -z "$passed" ] || [ -z "$failed" ]; then
  # No summary: the build or the runner failed before any test ran.
  passed=${passed:-0}
  failed=$(( ${failed:-0} + 1 ))
  status=1
fi
if [ "$failed" -gt 0 ]; then
  status=1
  # Repeat each failure (name, where, the first lines of why) here, so that a log's tail names what failed.
  echo
  echo "Failed tests:"
  awk '/^failed /{n=8} n>0{print; n--}' "$log"
fi
echo "$passed passed, $failed failed"
exit "$status"
