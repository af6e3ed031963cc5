#!/usr/bin/env bash
# Edit need on IteraTeR's human revisions (issue 12, item 5): trains and measures the sentence-level model (with the
# MiniLM encoder) and the paragraph-level one, writing the models and the JSON summaries to artifacts/edit-need/.
# Usage: scripts/edit-need.sh [DATA_DIR] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
data="${1:-../shared/data/text-revisions}"
seed="${2:-42}"
out=artifacts/edit-need
mkdir -p "$out"
dotnet build apps/lasthope -c Release 2>&1 | grep -E " error |rror\(s\)" || true
cli=artifacts/bin/lasthope/release/lasthope
for level in sentence paragraph; do
  echo "== $level"
  "$cli" train-edit-need --data "$data" --level "$level" --seed "$seed" --out "$out/edit-need.$level.json" --json "$out/summary.$level.json" --html "$out/report.$level.html" 2> >(grep -v '^encoded' >&2)
done
