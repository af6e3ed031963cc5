#!/usr/bin/env bash
# Reproduces the figures of the predictors ([4 of 8]) in docs/performance.md and docs/models.md, on this machine:
#   1. train-model on UCI German credit (5:1 cost matrix) and on the Taiwan default data, with their baselines;
#   2. a 300-tree, 31-leaf Taiwan model (early stopping off), registered and activated in a fresh store;
#   3. POST /v1/predict/taiwan with top-5 reasons at 200 requests/s over loopback (open loop), three runs;
#   4. score-batch of 1,200,000 rows (the Taiwan file 40 times, written to /tmp) without and with explanations.
# The shared data stays in ../shared/data; what this script writes goes under $DATA (default /tmp/lasthope-predict).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
data="${DATA:-/tmp/lasthope-predict}"
shared="${LASTHOPE_DATA:-$root/../shared/data}"
port="${PORT:-18091}"
url="http://127.0.0.1:$port"
lh() { "$root/lasthope" "$@"; }
german_columns="checking_status,duration_months,credit_history,purpose,credit_amount,savings,employment_since,installment_rate,personal_status_sex,other_debtors,residence_since,property,age,other_installment_plans,housing,existing_credits,job,people_liable,telephone,foreign_worker,class"

rm -rf "$data"; mkdir -p "$data"
lh --help > /dev/null   # build once, outside any measurement
echo "## 1. German credit"
lh train-model --task binary --data-file "$shared/credit/german/german.csv" --columns "$german_columns" --label class --positive 2 \
  --cost-matrix 1,5 --decisions refuse,approve --target risk --name german --json "$data/german.json" 2> /dev/null
echo "## 1. Taiwan default"
lh train-model --task binary --data-file "$shared/credit/taiwan/UCI_Credit_Card.csv" --label Y --ignore ID --categorical X2,X3,X4 \
  --decisions refuse,approve --target risk --name taiwan --json "$data/taiwan.json" 2> /dev/null

echo "## 2. the 300 x 31 Taiwan model"
lh train-model --task binary --data-file "$shared/credit/taiwan/UCI_Credit_Card.csv" --label Y --ignore ID --categorical X2,X3,X4 \
  --decisions refuse,approve --target risk --name taiwan --trees 300 --leaves 31 --early-stopping-rounds 0 \
  --out "$data/taiwan-300.json" --activate --data "$data/store" 2> /dev/null | tail -2
python3 - "$shared/credit/taiwan/UCI_Credit_Card.csv" "$data" <<'PY'
import csv, sys
src, out = sys.argv[1], sys.argv[2]
rows = list(csv.reader(open(src)))
header = rows[0]
keep = [i for i, n in enumerate(header) if n not in ("ID", "Y")]
with open(f"{out}/rows.csv", "w", newline="") as f:
    w = csv.writer(f); w.writerow([header[i] for i in keep])
    for r in rows[1:2001]: w.writerow([r[i] for i in keep])
with open(f"{out}/big.csv", "w", newline="") as f:
    f.write(",".join(header) + "\n")
    body = "".join(",".join(r) + "\n" for r in rows[1:])
    for _ in range(40): f.write(body)
PY

echo "## 3. predict at 200/s, top-5 reasons"
"$root/lasthope" serve --data "$data/store" --urls "$url" --log-level Warning > "$data/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 300); do curl -sf "$url/health/live" > /dev/null && break; sleep 0.5; done
lh loadtest --url "$url" --predict taiwan --rows "$data/rows.csv" --explain 5 --rate 300 --duration 10 --warmup 3 2> /dev/null > /dev/null   # warm the JIT
for run in 1 2 3; do
  echo "### run $run"; lh loadtest --url "$url" --predict taiwan --rows "$data/rows.csv" --explain 5 --rate 200 --duration 30 --warmup 3 2> /dev/null
done
kill "$server"; wait "$server" 2> /dev/null || true

echo "## 4. score-batch, 1,200,000 rows"
for run in 1 2 3; do lh score-batch --model "$data/taiwan-300.json" --input "$data/big.csv" --output "$data/scores.csv" --pass-through ID 2> /dev/null; done
python3 -c "import itertools,sys; sys.stdout.writelines(itertools.islice(open('$data/big.csv'), 100001))" > "$data/big-100k.csv"
lh score-batch --model "$data/taiwan-300.json" --input "$data/big-100k.csv" --output "$data/explained.csv" --explain 5 --pass-through ID 2> /dev/null
