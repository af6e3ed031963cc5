#!/usr/bin/env bash
# Reproduces the text-cascade latency figures ([5 of 8], issue 12) in docs/performance.md, on this machine:
#   1. train-text on the financial-news sentiment data: the cascade model (int8 MiniLM + linear head, TF-IDF last
#      hope, budget 15 ms), the same on the float32 encoder (the previous version, the peer), the TF-IDF baseline
#      alone (--no-encoder), and the int8 cascade with its budget set to 1 ms;
#   2. two servers on fresh stores: the default one (int8 encoder) with the three int8-side models, and one with
#      Lasthope:Text:Encoder=float32 with the float32 cascade;
#   3. POST /v1/text/NAME, one short text each (the held-out headlines), at 50 requests/s for 60 s (open loop,
#      10 s of warm-up), the int8 and float32 cascades interleaved three times, with the two other peers once;
#      uptime before each run.
# THREADS=N serves with N intra-op threads per encoder call (Lasthope:Text:EncoderThreads, default 1).
# MODEL=FILE and MODEL_F32=FILE reuse cascade packages trained earlier by step 1 (the encoder's training takes minutes).
# The shared data stays in ../shared/data; what this script writes goes under $DATA (default /tmp/lasthope-text-load).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
data="${DATA:-/tmp/lasthope-text-load}"
shared="${LASTHOPE_DATA:-$root/../shared/data}"
port="${PORT:-18122}"
port32=$((port + 1))
rate="${RATE:-50}"
duration="${DURATION:-60}"
runs="${RUNS:-3}"
url="http://127.0.0.1:$port"
url32="http://127.0.0.1:$port32"
lh() { "$root/lasthope" "$@"; }
sentiment=(--task classify --data "$shared/sentiment/sent_train.csv" --test "$shared/sentiment/sent_valid.csv" --text text --label label
  --label-map scripts/text-labels/sentiment.csv)

rm -rf "$data"; mkdir -p "$data"
lh --help > /dev/null   # build once, outside any measurement
echo "## 1. train"
if [ -n "${MODEL:-}" ]; then
  cp "$MODEL" "$data/sentiment.json"   # a package trained earlier by the command below
else
  lh train-text "${sentiment[@]}" --name sentiment --out "$data/sentiment.json" 2> /dev/null | tail -2
fi
if [ -n "${MODEL_F32:-}" ]; then
  cp "$MODEL_F32" "$data/sentiment-f32.json"
else
  lh train-text "${sentiment[@]}" --name sentiment-f32 --encoder float32 --out "$data/sentiment-f32.json" 2> /dev/null | tail -2
fi
lh train-text "${sentiment[@]}" --name sentiment-tfidf --no-encoder --out "$data/sentiment-tfidf.json" 2> /dev/null | tail -1
python3 - "$data" <<'PY'
import json, sys
d = json.load(open(f"{sys.argv[1]}/sentiment.json"))
d["name"], d["budgetMs"] = "sentiment-b1", 1
json.dump(d, open(f"{sys.argv[1]}/sentiment-b1.json", "w"))
PY
# The held-out headlines (87 characters on average) as the texts to cycle through.
cp "$shared/sentiment/sent_valid.csv" "$data/texts.csv"

echo "## 2. serve"
Lasthope__Text__EncoderThreads="${THREADS:-1}" "$root/lasthope" serve --data "$data/store" --urls "$url" --log-level Warning > "$data/serve.log" 2>&1 &
server=$!
Lasthope__Text__Encoder=float32 Lasthope__Text__EncoderThreads="${THREADS:-1}" "$root/lasthope" serve --data "$data/store32" --urls "$url32" --log-level Warning > "$data/serve32.log" 2>&1 &
server32=$!   # the wrapper execs dotnet, so these are the servers themselves and the trap stops them
trap 'kill "$server" "$server32" 2> /dev/null || true' EXIT
for u in "$url" "$url32"; do
  for _ in $(seq 1 300); do curl -sf "$u/health/live" > /dev/null && break; sleep 0.5; done
done
for m in sentiment sentiment-tfidf sentiment-b1; do
  curl -sf -X POST "$url/v1/models?activate=true" -H 'content-type: application/json' --data-binary "@$data/$m.json" > /dev/null
done
curl -sf -X POST "$url32/v1/models?activate=true" -H 'content-type: application/json' --data-binary "@$data/sentiment-f32.json" > /dev/null

load() {   # NAME RUN [URL]
  echo "### $1 ($(uptime | sed 's/.*load average/load average/'))"
  lh loadtest --url "${3:-$url}" --text "$1" --texts "$data/texts.csv" --rate "$rate" --duration "$duration" --warmup 10 --json "$data/$1-$2.json" 2> /dev/null
}
echo "## 3. $rate requests/s for $duration s"
lh loadtest --url "$url" --text sentiment --texts "$data/texts.csv" --rate "$rate" --duration 10 --warmup 3 2> /dev/null > /dev/null   # load the encoder, warm the JIT
lh loadtest --url "$url32" --text sentiment-f32 --texts "$data/texts.csv" --rate "$rate" --duration 10 --warmup 3 2> /dev/null > /dev/null
for run in $(seq 1 "$runs"); do
  load sentiment "$run"
  load sentiment-f32 "$run" "$url32"
  [ "$run" = 1 ] && load sentiment-tfidf "$run"
  [ "$run" = 2 ] && load sentiment-b1 "$run"
done
echo "### after ($(uptime | sed 's/.*load average/load average/'))"
curl -sf "$url/v1/status" | python3 -c "import json,sys; print(\"server runtime:\", json.load(sys.stdin).get(\"runtime\"))" || true
