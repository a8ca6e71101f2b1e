#!/usr/bin/env bash
# GPU serving benchmark (issue 6), run on the device from an unpacked stage (tools/device/
# stage-cuda.sh with STAGE_TEKKEN set, so tekken.json is at its root): starts `tramontane serve`
# on the full-size model with dummy weights, waits for /health, runs `tramontane bench serve`
# (random 1024 in / 128 out, EOS ignored) at each concurrency, saves /metrics after each, and
# stops the server by its PID.
#   bash serve-bench.sh <result dir> <deadline, epoch seconds> [concurrencies, default "1 8 32 64"]
# SERVE_EXTRA: more serve flags (e.g. --quantization fp8); ROOFLINE_ARGS: serve_roofline.py's
# options (card ceilings, --weights fp8).
set -u
R=${1:?usage: serve-bench.sh <result dir> <deadline epoch s> [concurrencies]}
DEADLINE=${2:?deadline}
LEVELS=${3:-1 8 32 64}
PORT=8011
mkdir -p "$R"
left() { echo $(( DEADLINE - $(date +%s) )); }
node dist/src/cli/main.js serve mistral-small-3.1-24b --load-format dummy --device cuda --tokenizer tekken.json \
  --max-num-seqs 64 --max-model-len 2048 --max-num-batched-tokens 8192 --port $PORT ${SERVE_EXTRA:-} > "$R/server.log" 2>&1 &
SERVER=$!
echo "server pid $SERVER"
up=0
while [ "$(left)" -gt 10 ]; do
  if curl -sf "http://127.0.0.1:$PORT/health" > /dev/null 2>&1; then up=1; break; fi
  if ! kill -0 $SERVER 2>/dev/null; then echo "server exited"; break; fi
  sleep 1
done
echo "server up=$up after $(( $(date +%s) - ${START:-$(date +%s)} )) s"
if [ $up = 1 ]; then
  # Each level draws its own prompts (--seed $C): one server serves every level, and repeated
  # prompts would hit the prefix cache left by the level before and flatter the figures.
  PREV=-
  for C in $LEVELS; do
    N=$(( 2 * C > 8 ? 2 * C : 8 ))
    T=$(( $(left) - 8 ))
    if [ $T -lt 15 ]; then echo "concurrency $C: skipped, $(left) s left"; continue; fi
    timeout $T node dist/src/cli/main.js bench serve --port $PORT --model mistral-small-3.1-24b --tokenizer tekken.json \
      --dataset-name random --random-input-len 1024 --random-output-len 128 --ignore-eos --max-concurrency $C --num-prompts $N --seed $C \
      --save-result --result-dir "$R" --result-filename "serve-c$C.json" > "$R/serve-c$C.log" 2>&1
    echo "concurrency $C rc=$? ($(left) s left)"
    tail -25 "$R/serve-c$C.log" | grep -E "throughput|TTFT|TPOT|overhead|Successful|Benchmark duration" | head -12
    curl -s "http://127.0.0.1:$PORT/metrics" > "$R/metrics-after-c$C.txt" 2>&1
    python3 tools/device/serve_roofline.py ${ROOFLINE_ARGS:-} "$R/serve-c$C.json" "$PREV" "$R/metrics-after-c$C.txt" > "$R/roofline-c$C.json" 2>&1 \
      && grep -E "fraction|roofline_s|measured_s|hit_tokens|mean_ms|\"steps\"" "$R/roofline-c$C.json"
    PREV="$R/metrics-after-c$C.txt"
  done
fi
kill $SERVER 2>/dev/null
for _ in 1 2 3 4 5; do kill -0 $SERVER 2>/dev/null || break; sleep 1; done
kill -9 $SERVER 2>/dev/null
tail -5 "$R/server.log"
