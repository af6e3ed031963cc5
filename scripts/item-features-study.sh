#!/usr/bin/env bash
# Item attributes and user history as features ([3 of 8]): do they help a model trained on explored traffic?
#   1. 21 simulated days on surface "home" (2,000 requests a day, 1,000 candidates, 10 shown), 50% of requests
#      exploring the top 300, every item's category, price and quality_signal posted through POST /v1/items, and the
#      surface offering item.price, item.quality_signal and the user-history features;
#   2. two LambdaMARTs of the same size on the same explored rankings: the 12 built-in features only, and all of them;
#   3. for each, a server with it active and the depth study at K = 0 and 300 against the generator's truth.
# Usage: scripts/item-features-study.sh   (DATA, PORT override the data directory and port)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
data="${DATA:-/tmp/lasthope-item-features}"
port="${PORT:-18093}"
url="http://127.0.0.1:$port"
lh() { "$root/lasthope" "$@"; }
export Lasthope__Serving__Surfaces__home__ItemFeatures__0=price
export Lasthope__Serving__Surfaces__home__ItemFeatures__1=quality_signal
export Lasthope__Serving__Surfaces__home__UserHistoryFeatures=true
builtins="heuristic_score,heuristic_rank,ctr7d_segment,ctr30d_segment,trend_segment,ctr7d_item,ctr30d_item,trend_item,impressions7d,impressions30d,item_age_hours,segment_id"

rm -rf "$data"
lh --help > /dev/null   # build once, outside any measurement
echo "## 1. history with exploration and item attributes"
Lasthope__Serving__Surfaces__home__Exploration__Fraction=0.5 Lasthope__Serving__Surfaces__home__Exploration__Top=300 \
  lh demo --data "$data" --days 21 --requests-per-day 2000 --candidates 1000 --surface home --items 2> /dev/null | grep -E "mean|ended"
echo "## 2. two models on the same explored rankings"
for variant in builtins all; do
  features=()
  if [ "$variant" = builtins ]; then features=(--features "$builtins"); fi
  lh train-ranker --data "$data" --surface home --out "$data/ranker-$variant.txt" --trees 100 --num-leaves 15 --min-data-in-leaf 100 --days 60 --threads 2 --traffic explored "${features[@]}" 2>&1 | grep -E "ndcg@10|^│ (ips|snips|dr)|off-policy|wrote"
done
# Each depth study serves a copy of the history, so that neither sees the other's rankings.
for variant in builtins all; do
  echo "## 3. depth study, model with $variant features"
  rm -rf "$data-$variant"; cp -a "$data" "$data-$variant"
  lh model add "$data/ranker-$variant.txt" --surface home --activate --data "$data-$variant" --version "study-$variant" > /dev/null
  "$root/lasthope" serve --data "$data-$variant" --urls "$url" --clock-start 2025-01-27T00:00:00Z --log-level Warning > "$data/serve-$variant.log" 2>&1 &
  server=$!
  for _ in $(seq 1 300); do curl -sf "$url/health/live" > /dev/null && break; sleep 0.5; done
  lh depth-study --url "$url" --depths 0,300 --requests 300 2> /dev/null
  kill "$server"; wait "$server" 2> /dev/null || true
  rm -rf "$data-$variant"
done
lh model inspect "$data/ranker-all.txt" --top 20 2>&1 | tail -22
