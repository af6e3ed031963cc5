#!/usr/bin/env bash
# Rank latency on the embedded SQLite store and on PostgreSQL, same build, same history, same requests, runs
# interleaved (docs/performance.md, "Rank latency by store"). The store is not on the request path: impressions go
# to it through the bounded impression log, after the answer.
#   1. a throwaway PostgreSQL on loopback (scripts/lib/postgres.sh);
#   2. the same 14 simulated days of heuristic traffic (the demo's) logged into each store;
#   3. ROUNDS rounds of: serve on SQLite, loadtest; serve on PostgreSQL, loadtest (RATE requests/s, 60 s each).
# Usage: scripts/backend-latency.sh   (env: ROUNDS=3 RATE=200 DURATION=60 PORT=18130)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/lib/postgres.sh
work="${WORK:-/tmp/lasthope-backends}"
port="${PORT:-18130}"; url="http://127.0.0.1:$port"
rounds="${ROUNDS:-3}"; rate="${RATE:-200}"; duration="${DURATION:-60}"
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2> /dev/null; pg_stop; }
trap cleanup EXIT
lh() { "$root/lasthope" "$@"; }

rm -rf "$work"; mkdir -p "$work"
lh --help > /dev/null   # build once, outside any measurement
pg_start "$work/pg"
backend_env() { # sqlite | postgres
  if [ "$1" = postgres ]; then echo "Lasthope__Storage__Backend=postgres Lasthope__Storage__Postgres__ConnectionString=$PG_URL"; fi
}

for backend in sqlite postgres; do
  echo "## history on $backend"
  env $(backend_env $backend) "$root/lasthope" demo --data "$work/$backend" --days 14 --requests-per-day 2000 --candidates 1000 --surface home 2> /dev/null | grep -E "ended|store" || true
done

serve() { # backend
  env Lasthope__Serving__Surfaces__home= $(backend_env "$1") "$root/lasthope" serve --data "$work/$1" --urls "$url" \
    --clock-start 2025-01-20T00:00:00Z --log-level Warning > "$work/serve-$1.log" 2>&1 &
  server=$!
  for _ in $(seq 1 300); do curl -sf "$url/health/live" > /dev/null && return 0; sleep 0.5; done
  echo "server on $1 did not start" >&2; exit 1
}
stop() { kill "$server"; wait "$server" 2> /dev/null || true; server=""; }

for round in $(seq 1 "$rounds"); do
  for backend in sqlite postgres; do
    serve "$backend"
    lh loadtest --url "$url" --rate 300 --duration 10 --warmup 3 > /dev/null 2>&1   # warm the JIT
    echo "## round $round, $backend ($(cut -d' ' -f1-3 /proc/loadavg))"
    lh loadtest --url "$url" --rate "$rate" --duration "$duration" --warmup 5 --json "$work/$backend-$round.json" 2> /dev/null
    stop
  done
done

python3 - "$work" "$rounds" <<'PY'
import json, sys, os
work, rounds = sys.argv[1], int(sys.argv[2])
print("\n| round | store | requests | server p50 | p99 | p99.9 | client p99 |\n|---:|---|---:|---:|---:|---:|---:|")
p99 = {"sqlite": [], "postgres": []}
for r in range(1, rounds + 1):
    for b in ("sqlite", "postgres"):
        d = json.load(open(os.path.join(work, f"{b}-{r}.json")))
        server, client = d["Server"], d["Client"]
        p99[b].append(server["P99"])
        print(f"| {r} | {b} | {d['Completed']:,} | {server['P50']:.2f} ms | {server['P99']:.2f} ms | {server['P999']:.2f} ms | {client['P99']:.2f} ms |")
for r in range(rounds):
    print(f"round {r+1}: p99 PostgreSQL / SQLite = {p99['postgres'][r] / p99['sqlite'][r]:.2f}")
PY
