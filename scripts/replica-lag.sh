#!/usr/bin/env bash
# Replica lag (issue 13's bar: "two replicas on loopback: the p99 lag from an event accepted by one to its count in
# the other, at 1,000 events/s, is under 1 s"), measured on this machine:
#   1. builds the CLI (the ./lasthope wrapper, Release) outside any measurement;
#   2. starts a throwaway PostgreSQL cluster with fsync on (scripts/lib/postgres.sh; the tests' cluster has it off: the
#      bar is about the durable path);
#   3. starts two `lasthope serve` replicas on one database of it, on free loopback ports, with an API key (scopes
#      rank and events) and the default follow interval (Lasthope:State:FollowIntervalMs, 100 ms, unless FOLLOW_MS);
#   4. runs `lasthope loadtest lag` against them: RATE (1000) events/s posted to A for DURATION (60) s after WARMUP (5)
#      s, a probe click every 50 ms whose count is polled on B every 10 ms; prints the result and the load average;
#   5. stops everything and deletes the temporary directory (trap), whatever happened.
# JSON=FILE keeps the result as JSON. Exit code: the lag command's (0 when nothing was lost and nothing failed).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rate="${RATE:-1000}"
duration="${DURATION:-60}"
warmup="${WARMUP:-5}"
follow="${FOLLOW_MS:-100}"
json="${JSON:-}"
source "$root/scripts/lib/postgres.sh"
work="$(mktemp -d /tmp/lasthope-replica-lag.XXXXXX)"
servers=()
cleanup() {
  for pid in "${servers[@]}"; do kill -TERM "$pid" 2> /dev/null || true; done
  for pid in "${servers[@]}"; do wait "$pid" 2> /dev/null || true; done
  pg_stop
  rm -rf "$work"
}
trap cleanup EXIT
lh() { "$root/lasthope" "$@"; }

echo "## build"
lh --help > /dev/null

echo "## postgres"
pg_start "$work/pg"

echo "## two replicas"
key="lag-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
export Lasthope__Storage__Backend=postgres
export Lasthope__Storage__Postgres__ConnectionString="$PG_URL"
export Lasthope__State__FollowIntervalMs="$follow"
export Lasthope__Security__ApiKeys__0__Name=lag Lasthope__Security__ApiKeys__0__Key="$key"
export Lasthope__Security__ApiKeys__0__Scopes__0=rank Lasthope__Security__ApiKeys__0__Scopes__1=events
urls=()
for name in a b; do
  port="$(free_port)"
  "$root/lasthope" serve --data "$work/$name" --urls "http://127.0.0.1:$port" --log-level Warning > "$work/$name.log" 2>&1 &
  servers+=($!)   # the wrapper execs dotnet, so this is the server itself
  urls+=("http://127.0.0.1:$port")
done
for i in 0 1; do
  for _ in $(seq 1 240); do curl -sf "${urls[$i]}/health/ready" > /dev/null && break; sleep 0.5; done
  curl -sf "${urls[$i]}/health/ready" > /dev/null || { echo "replica ${urls[$i]} did not start:" >&2; cat "$work/$([ "$i" = 0 ] && echo a || echo b).log" >&2; exit 1; }
done
echo "A ${urls[0]}, B ${urls[1]}, follow interval ${follow} ms"

echo "## $rate events/s for $duration s ($(uptime | sed 's/.*load average/load average/'))"
set +e
LASTHOPE_API_KEY="$key" lh loadtest lag --url "${urls[0]}" --replica-url "${urls[1]}" --rate "$rate" --duration "$duration" --warmup "$warmup" \
  ${json:+--json "$json"} 2> "$work/lag.err"
code=$?
set -e
[ "$code" = 0 ] || grep -v '━' "$work/lag.err" | tail -n 5 >&2 || true   # the message, without the progress bar
echo "## after ($(uptime | sed 's/.*load average/load average/'))"
exit "$code"
