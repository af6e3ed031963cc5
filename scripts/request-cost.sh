#!/usr/bin/env bash
# The server's CPU time per rank request, heuristic only and with the model at K = 300: the server process's user +
# system time (/proc/PID/stat) over a fixed-rate load test, less what the idle server used over as long a time before
# it (its background work: popularity lists, snapshots, the last resort's tables), divided by the responses. CPU time is what a request costs
# the cores whatever else runs on the machine, so it can be compared between builds on a shared machine, where
# latency cannot. Needs the data of scripts/cascade-bars.sh (14 days of history and the 500-tree model on "home").
# Usage: DATA=/tmp/lasthope-cascade [SERVER=other/checkout/lasthope] scripts/request-cost.sh [rate] [seconds]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="${DATA:-/tmp/lasthope-cascade}"
server_cli="${SERVER:-$root/lasthope}"
port="${PORT:-18097}"
url="http://127.0.0.1:$port"
rate="${1:-200}"
seconds="${2:-30}"
ticks="$(getconf CLK_TCK)"
[ -d "$data" ] || { echo "no data directory $data: run scripts/cascade-bars.sh first (STEPS=\"1 2\")" >&2; exit 2; }
"$root/lasthope" --help > /dev/null
"$server_cli" --help > /dev/null
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
cp -r "$data" "$work/data"   # each run serves a copy: the history is the same for every build

cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
env Lasthope__Serving__Surfaces__home= Lasthope__Serving__Surfaces__plain= "$server_cli" serve --data "$work/data" --urls "$url" \
  --clock-start 2025-01-20T00:00:00Z --log-level Warning > "$work/serve.log" 2>&1 &
wrapper=$!
for _ in $(seq 1 300); do curl -sf "$url/health/live" > /dev/null && break; sleep 0.5; done
pid="$(pgrep -f "serve --data $work/data" | tail -n 1)"
"$root/lasthope" loadtest --url "$url" --rate 200 --duration 10 --warmup 5 > /dev/null 2>&1   # warm the JIT
idle_before="$(cpu "$pid")"; sleep "$seconds"; idle="$(( $(cpu "$pid") - idle_before ))"
echo "idle server: $(awk -v c="$idle" -v t="$ticks" 'BEGIN { printf "%.2f", c / t }') s of CPU in $seconds s"
for surface in plain home; do
  before="$(cpu "$pid")"
  out="$("$root/lasthope" loadtest --url "$url" --surface "$surface" --rate "$rate" --duration "$seconds" --warmup 0 2> /dev/null)"
  after="$(cpu "$pid")"
  responses="$(echo "$out" | sed -n 's/^measured [0-9]* s: \([0-9,]*\) responses.*/\1/p' | tr -d ,)"
  served="$(echo "$out" | awk '$1 != "all" && $2 ~ /^[0-9,]+$/ && $1 ~ /^(model|model_partial|heuristic|heuristic_fallback)$/ { printf "%s %s; ", $1, $2 }')"
  awk -v s="$surface" -v c="$((after - before))" -v i="$idle" -v t="$ticks" -v n="$responses" -v r="$rate" -v p="$served" \
    'BEGIN { printf "%-6s %d/s: %d responses, server CPU %.2f s (idle %.2f), %.3f ms per response beyond idle (%s)\n", s, r, n, c / t, i / t, 1000 * (c - i) / t / n, p }'
done
kill "$wrapper" 2> /dev/null; wait "$wrapper" 2> /dev/null || true
