#!/usr/bin/env bash
# Runs ./test.sh RUNS times in a row (default 5) while BUSY busy loops (default 2, `yes > /dev/null`) hold the CPU,
# and prints each run's summary line: the suite must not depend on the machine's load. The loops stop on exit.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs=${1:-5}
busy=${2:-2}
pids=()
trap 'kill "${pids[@]}" 2>/dev/null' EXIT
for _ in $(seq "$busy"); do
  yes > /dev/null &
  pids+=($!)
done
# Each run's whole log is kept (LOGS, default a temporary directory) so a failure can be read afterwards.
logs=${LOGS:-$(mktemp -d)}
mkdir -p "$logs"
failures=0
for run in $(seq "$runs"); do
  start=$(date +%s)
  "$root/test.sh" > "$logs/run-$run.log" 2>&1
  summary=$(tail -n 1 "$logs/run-$run.log")
  echo "run $run of $runs ($busy busy loops): $summary in $(( $(date +%s) - start )) s"
  # test.sh's last line is "N passed, N failed"; a run is green only when it says 0 failed.
  [[ "$summary" =~ ^[0-9]+\ passed,\ 0\ failed$ ]] || failures=$((failures + 1))
done
echo "$((runs - failures)) of $runs runs green under $busy busy loops (logs in $logs)"
[ "$failures" -eq 0 ]
