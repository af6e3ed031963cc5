#!/usr/bin/env bash
# The bar of train-als's defaults (issue 14, item 1): on the same validation split (20% of each user's items, seed
# 42, at most 5,000 users scored), the best NDCG@10 of a 100-point log grid (GRID regularizations x alphas over the
# search's box, x factors 16/32/64/128) beside what `train-als` with no hyperparameters chooses (it searches 16/32/64
# factors within its 60 s budget). Prints both and their ratio; exits 1 when the default is more than 2% below the
# grid's best.
#   scripts/als-defaults.sh [INPUT.csv]      (default ../shared/data/msweb/interactions_train.csv)
# Environment: GRID (default 5x5x16/32/64/128), BUDGET (the default run's --search-budget; default: train-als's own), OUT (default
# /tmp/lasthope-als-defaults). The grid's best figure is the reference AlsTuningTests' msweb test checks against.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
input="${1:-$root/../shared/data/msweb/interactions_train.csv}"
out="${OUT:-/tmp/lasthope-als-defaults}"
grid="${GRID:-5x5x16/32/64/128}"
lh() { "$root/lasthope" "$@"; }
rm -rf "$out"; mkdir -p "$out"
lh --help > /dev/null   # build once, outside any measurement
echo "## load: $(uptime)"

echo "## grid $grid on the validation split"
/usr/bin/time -o "$out/grid.time" -f "grid: %e s wall, %U s user CPU" "$root/lasthope" train-als --input "$input" --grid "$grid" \
  --search-budget 86400 --output "$out/grid.lhals" --json > "$out/grid.json" 2> "$out/grid.err"
sed -n '/trial .*regularization/,/^chosen/p' "$out/grid.err" | sed '/^chosen/,$d'
grep -A 2 '^chosen' "$out/grid.err" || true
cat "$out/grid.time"

echo "## train-als with no hyperparameters"
budget=()
if [ -n "${BUDGET:-}" ]; then budget=(--search-budget "$BUDGET"); fi
/usr/bin/time -o "$out/default.time" -f "default: %e s wall, %U s user CPU" "$root/lasthope" train-als --input "$input" "${budget[@]}" \
  --output "$out/default.lhals" --json > "$out/default.json" 2> "$out/default.err"
sed -n '/trial .*regularization/,/^chosen/p' "$out/default.err" | sed '/^chosen/,$d'
grep -A 3 '^chosen' "$out/default.err" || true
cat "$out/default.time"
echo "## load: $(uptime)"

jq -r -n --slurpfile g "$out/grid.json" --slurpfile d "$out/default.json" '
  def show(x): "\(x.chosenBy): NDCG@10 \(x.search.score * 10000 | round / 10000) at regularization \(x.regularization), alpha \(x.alpha), factors \(x.factors) (\(x.search.trials) trials, \(x.search.seconds) s, budget exhausted: \(x.search.budgetExhausted))";
  show($g[0]), show($d[0]),
  "ratio default / grid best: \($d[0].search.score / $g[0].search.score * 10000 | round / 10000) (bar: at least 0.98)"'
jq -e -n --slurpfile g "$out/grid.json" --slurpfile d "$out/default.json" '$d[0].search.score >= 0.98 * $g[0].search.score' > /dev/null
