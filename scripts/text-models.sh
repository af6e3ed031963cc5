#!/usr/bin/env bash
# Reproduces the text-model tables of docs/models.md ("Text models ([5 of 8])") on this machine: for each of the three
# classification data sets of issue 12, `lasthope train-text --task classify` trains the TF-IDF baseline and the
# all-MiniLM-L6-v2 encoder with a linear head on the same split, compares them on the held-out texts (95% bootstrap
# intervals, the paired difference, a verdict) and measures the encoder's cost per text:
#   1. CFPB narratives -> Product (1,532 narratives; stratified 80/20, seed 42);
#   2. CFPB narratives -> Issue group (the issues mapped to broad groups by --group-issues; same split);
#   3. BANKING77 texts -> intent (77 classes; the data set's own train/test files);
#   4. financial-news sentiment -> bearish/bullish/neutral (sent_train.csv / sent_valid.csv as the test file).
# Each run writes OUT/NAME.json (the summary), OUT/NAME.html (the report) and OUT/NAME.model.json (the package), and
# the script prints one markdown table per task from the summaries. Edit need (the fourth task) is scripts of its own.
# Usage: scripts/text-models.sh [out-dir]    (DATA: the shared data folder, default ../shared/data)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
data="${DATA:-$root/../shared/data}"
out="${1:-/tmp/lasthope-text-models}"
mkdir -p "$out"
lh() { "$root/lasthope" "$@"; }
lh --help > /dev/null   # build once, outside any measurement

train() { # name, then train-text's arguments
  local name="$1"; shift
  echo "== $name" >&2
  lh train-text --task classify --name "$name" --json "$out/$name.json" --html "$out/$name.html" --out "$out/$name.model.json" "$@" > "$out/$name.txt"
  cat "$out/$name.txt"
}

cfpb="$data/complaints/cfpb/complaints_sample.csv"
train cfpb-product --data "$cfpb" --text "Consumer complaint narrative" --label Product
train cfpb-issue-group --data "$cfpb" --text "Consumer complaint narrative" --label Issue --group-issues
train banking77 --data "$data/complaints/banking77/train.csv" --test "$data/complaints/banking77/test.csv" --text text --label category
train sentiment --data "$data/sentiment/sent_train.csv" --test "$data/sentiment/sent_valid.csv" --text text --label label --label-map scripts/text-labels/sentiment.csv

# One markdown table per task from the JSON summaries.
for name in cfpb-product cfpb-issue-group banking77 sentiment; do
  python3 - "$out/$name.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
f = lambda c: f"{c['estimate']:.4f} [{c['lower']:.4f}, {c['upper']:.4f}]"
d = lambda c: f"{c['estimate']:+.4f} [{c['lower']:+.4f}, {c['upper']:+.4f}]"
models = {m['model']: {c['metric']: c for c in m['metrics']} for m in s['models']}
print(f"\n#### {s['name']}: {s['trainRows']:,} texts to train, {s['testRows']:,} held out, {s['classes']} classes\n")
print("| metric | " + " | ".join(models) + f" | encoder - {s['bestBaseline']} (paired) |")
print("|---|" + "---|" * (len(models) + 1))
for i, c in enumerate(s['difference']):
    print(f"| {c['metric']} | " + " | ".join(f(models[m][c['metric']]) for m in models) + f" | {d(c)} |")
print(f"\n{s['verdict']}")
e = s.get('encoderCost')
if e:
    print(f"\nEncoder cost: {e['msPerTextBatched']:.2f} ms/text at batch {e['batchSize']}, {e['msPerTextSingle']:.2f} ms/text at batch 1 (p50 {e['singleP50Ms']:.2f}, p95 {e['singleP95Ms']:.2f}); mean {e['meanCharacters']:.0f} characters.")
print(f"\nCommand: `{s['command']}`")
PY
done | tee "$out/tables.md"
