#!/usr/bin/env bash
# Exploration, off-policy estimates and unbiased training on the simulator ([3 of 8]):
#   1. 21 simulated days on surface "home" (2,000 requests a day, 1,000 candidates, 10 shown) with exploration on:
#      50% of requests show 10 items drawn uniformly from the top 300;
#   2. off-policy estimates of the uniform and the unexplored policies from that log (lasthope ope), beside the CTRs
#      of the explored and unexplored requests, which are the two policies' on-policy CTRs on the same days;
#   3. a small LambdaMART (100 trees of 15 leaves, at least 100 rows a leaf) trained on the explored traffic only,
#      activated (a 500-tree, 63-leaf one overfits the few thousand explored queries: docs/models.md);
#   4. the depth study, K in {0, 100, 300, 1000}, against the generator's truth (the serving server does not explore).
# Usage: scripts/exploration-study.sh   (DATA, PORT override the data directory and port)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
data="${DATA:-/tmp/lasthope-exploration}"
port="${PORT:-18091}"
url="http://127.0.0.1:$port"
lh() { "$root/lasthope" "$@"; }

rm -rf "$data"
lh --help > /dev/null   # build once, outside any measurement
echo "## 1. history with exploration"
Lasthope__Serving__Surfaces__home__Exploration__Fraction=0.5 Lasthope__Serving__Surfaces__home__Exploration__Top=300 \
  lh demo --data "$data" --days 21 --requests-per-day 2000 --candidates 1000 --surface home 2> /dev/null | grep -E "mean|ended"
echo "## 2. off-policy estimates"
lh ope --data "$data" --surface home --policy uniform 2>&1
lh ope --data "$data" --surface home --policy unexplored 2>&1
echo "## 3. model from explored traffic"
lh train-ranker --data "$data" --surface home --out "$data/ranker.txt" --trees 100 --num-leaves 15 --min-data-in-leaf 100 --days 60 --threads 2 --traffic explored --activate
echo "## 3b. the model against the heuristic off-policy, on the whole log (re-ranking the logged top 30 of each explored request)"
lh ope --data "$data" --surface home --policy model --model "$data/ranker.txt" --against heuristic 2>&1
echo "## 4. depth study"
env Lasthope__Serving__Surfaces__home= "$root/lasthope" serve --data "$data" --urls "$url" --clock-start 2025-01-27T00:00:00Z --log-level Warning > "$data/serve.log" 2>&1 &
server=$!
trap 'kill $server 2> /dev/null || true' EXIT
for _ in $(seq 1 300); do curl -sf "$url/health/live" > /dev/null && break; sleep 0.5; done
lh depth-study --url "$url" --depths 0,100,300,1000 --requests 300 2> /dev/null
