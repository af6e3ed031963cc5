#!/usr/bin/env bash
# Reproduces the figures of the deadline cascade ([3 of 4]) in docs/performance.md, on this machine, over loopback:
#   1. 14 simulated days of heuristic traffic (1,000 candidates per request) with the built-in features logged;
#   2. a 500-tree, 63-leaf LambdaMART model trained from those logs and activated on surface "home";
#   3. load tests at 100 requests/s, an open-loop capacity search (the highest rate of the sweep whose server-side
#      p99 is within 10 ms, the bar at moderate load), a closed-loop saturation run, and three runs at twice the
#      capacity found;
#   4. a fault drill: 200 ms of injected latency (beyond the 80 ms budget) on 20% of requests, counted three ways;
#   5. the depth study, K in {0, 100, 300, 1000}.
#   Step 3 ends with three runs at three times the capacity (overload: answers within budget per second, answers later
#   than the budget + 5 ms, and how long refusals took, all at the server).
# Usage: scripts/cascade-bars.sh [capacity]   (capacity: the open-loop rate to double in step 3; default: found)
# Environment: DATA (the data directory), PORT, STEPS (default "1 2 3 4 5"; e.g. STEPS=3 re-runs the load steps on an
# existing DATA), SERVER (the CLI that serves, default this checkout's ./lasthope: point it at another checkout's
# ./lasthope to measure that version with this version's load generator), RUNS_2X and RUNS_3X (how many runs at twice
# and three times the capacity; default 3 each).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
data="${DATA:-/tmp/lasthope-cascade}"
port="${PORT:-18090}"
url="http://127.0.0.1:$port"
capacity="${1:-}"
steps=" ${STEPS:-1 2 3 4 5} "
server_cli="${SERVER:-$root/lasthope}"
lh() { "$root/lasthope" "$@"; }
step() { [[ "$steps" == *" $1 "* ]]; }

serve() { # clock-start, extra env...
  local clock="$1"; shift
  env Lasthope__Serving__Surfaces__home= "$@" "$server_cli" serve --data "$data" --urls "$url" --clock-start "$clock" --log-level Warning > "$data/serve.log" 2>&1 &
  server=$!
  for _ in $(seq 1 300); do curl -sf "$url/health/live" > /dev/null && return 0; sleep 0.5; done
  echo "server did not start" >&2; exit 1
}
stop() { kill "$server"; wait "$server" 2> /dev/null || true; }

lh --help > /dev/null   # build once, outside any measurement
"$server_cli" --help > /dev/null
if step 1; then
  rm -rf "$data"
  echo "## 1. history"; lh demo --data "$data" --days 14 --requests-per-day 2000 --candidates 1000 --surface home 2> /dev/null | grep -E "mean|ended"
fi
if step 2; then
  echo "## 2. model"; lh train-ranker --data "$data" --surface home --out "$data/ranker.txt" --trees 500 --num-leaves 63 --threads 2 --activate 2> /dev/null
fi

if step 3; then
echo "## 3. load"; serve 2025-01-20T00:00:00Z
lh loadtest --url "$url" --rate 300 --duration 10 --warmup 5 2> /dev/null > /dev/null   # warm the JIT
echo "### 100/s"; lh loadtest --url "$url" --rate 100 --duration 60 --warmup 5 2> /dev/null
found=0
for rate in 400 600 800 1000 1200 1400; do
  echo "### open loop $rate/s"
  out="$(lh loadtest --url "$url" --rate "$rate" --duration 30 --warmup 5 2> /dev/null || true)"; echo "$out"
  p99="$(echo "$out" | awk '$1 == "all" { sub("ms", "", $4); print $4 }')"
  turned_away="$(echo "$out" | sed -n 's/.*, \([0-9,]*\) refused at the door (503), \([0-9]*\) errors,.*/\1\2/p')"
  if [ "$turned_away" = "00" ] && awk -v p="$p99" 'BEGIN { exit !(p <= 10) }'; then found=$rate; fi
done
capacity="${capacity:-$found}"
if [ "$capacity" -eq 0 ]; then capacity=400; fi   # none of the sweep met 10 ms: double the lowest rate anyway
echo "### capacity (highest rate with server p99 <= 10 ms and no errors): $found/s; doubling $capacity/s"
echo "### closed loop, 2 in flight"; lh loadtest --url "$url" --rate 0 --concurrency 2 --duration 30 --warmup 5 2> /dev/null
for run in $(seq 1 "${RUNS_2X:-3}"); do
  echo "### twice the capacity: $((2 * capacity))/s, run $run"; lh loadtest --url "$url" --rate $((2 * capacity)) --duration 60 --warmup 5 2> /dev/null || true
done
for run in $(seq 1 "${RUNS_3X:-3}"); do
  echo "### three times the capacity: $((3 * capacity))/s, run $run"; lh loadtest --url "$url" --rate $((3 * capacity)) --duration 60 --warmup 5 2> /dev/null || true
done
stop
fi

if step 4; then
echo "## 4. fault drill"; serve 2025-01-21T00:00:00Z Lasthope__Serving__FaultInjection__ModelLatencyMs=200 Lasthope__Serving__FaultInjection__ModelLatencyFraction=0.2
lh loadtest --url "$url" --rate 100 --duration 100 --warmup 0 2> /dev/null
echo "### metrics"; curl -s "$url/metrics" | grep -E '^lasthope_rank_requests_total\{' | grep 'surface="home"'
stop
echo "### impression log"; lh log-summary --data "$data" --surface home --since 2025-01-21T00:00:00Z
fi

if step 5; then
echo "## 5. depth study"; serve 2025-01-22T00:00:00Z
lh depth-study --url "$url" --depths 0,100,300,1000 --requests 300 2> /dev/null
stop
fi
