#!/usr/bin/env bash
# Every GPU benchmark of issues 5 and 6 and the transformers baseline, in one script run from
# the repo root on the device, each part under its own timeout, results re-packed into
# $OUT/results.tar.gz after each part (a killed call keeps what it had).
#   bash tools/device/full-bench.sh <dir holding stage.tar.xz> <parts> [seconds, default 560]
# Stage first (here): STAGE_TEKKEN=<full tekken.json> tools/device/stage-cuda.sh /work/main/.xfer/full --pack
# Parts (comma list): tests, decode (batch 1 with decode graphs), eager (the same with
# --enforce-eager), decode32, prefill (4096), vision (1540x1540), long (131000-token prompt + 32
# decode), serve (1/8/32/64, roofline), and transformers' hf-decode, hf-prefill, hf-vision,
# hf-long, hf-static (tools/reference/hf_bench.py parts, one process).
set -u
X=${1:?usage: full-bench.sh <dir with stage.tar.xz> <parts> [seconds]}
PARTS=${2:?parts}
START=$(date +%s); export START
DEADLINE=$(( START + ${3:-560} ))
ROOT=$(pwd)
R=/tmp/res; mkdir -p $R
source .device/bootstrap.sh >/dev/null
mkdir -p /tmp/cr && tar -xJf "$X/stage.tar.xz" -C /tmp/cr
nvidia-smi --query-gpu=name,memory.total,memory.used,driver_version,clocks.sm,clocks.max.sm,power.draw,temperature.gpu --format=csv > $R/gpu.csv 2>&1
cat $R/gpu.csv
cd /tmp/cr
has() { [[ ",$PARTS," == *",$1,"* ]]; }
save() { tar -C $R -czf "$OUT/results.tar.gz" . ; }
left() { echo $(( DEADLINE - $(date +%s) )); }
LAT="node dist/src/cli/main.js bench latency --model mistral-small-3.1-24b --load-format dummy --device cuda --skip-matmul"
if has tests; then
  echo "== tests ($(left) s left)"
  timeout ${TESTS_TIMEOUT:-170} node scripts/run-tests.mjs --cuda > $R/cuda-tests.log 2>&1; echo "tests rc=$?"
  grep -E "^# (tests|pass|fail)|^tests:|^not ok" $R/cuda-tests.log | sort -u | head -20
  save
fi
if has decode; then
  echo "== decode ($(left) s left)"
  for mode in graphs eager; do
    [ $mode = eager ] && ! has eager && continue
    flag=""; [ $mode = eager ] && flag="--enforce-eager"
    timeout 70 $LAT --batch-size 1 --input-len 128 --output-len 128 --num-iters-warmup 1 --num-iters 3 $flag --output-json $R/decode-$mode.json > $R/decode-$mode.log 2>&1
    echo "decode $mode rc=$?"; grep -E "decode \(median\)|output tokens/s|Error|error" $R/decode-$mode.log | head -4
  done
  save
fi
if has decode32; then
  timeout 50 $LAT --batch-size 32 --input-len 128 --output-len 64 --num-iters-warmup 1 --num-iters 2 --output-json $R/decode32.json > $R/decode32.log 2>&1
  echo "decode batch 32 rc=$?"; grep -E "decode \(median\)|Error|error" $R/decode32.log | head -3
  save
fi
if has prefill; then
  echo "== prefill ($(left) s left)"
  timeout 60 $LAT --batch-size 1 --input-len 4096 --output-len 2 --max-num-batched-tokens 4096 --num-iters-warmup 1 --num-iters 3 --output-json $R/prefill.json > $R/prefill.log 2>&1
  echo "prefill rc=$?"; grep -E "prefill|Error|error" $R/prefill.log | head -4
  save
fi
if has vision; then
  echo "== vision ($(left) s left)"
  timeout 60 node dist/bench/cuda/vision.js $R/vision.json 1540 > $R/vision.log 2>&1; echo "vision rc=$?"; tail -c 700 $R/vision.log; echo
  save
fi
if has long; then
  echo "== long context ($(left) s left)"
  timeout ${LONG_TIMEOUT:-200} $LAT --batch-size 1 --input-len 131000 --output-len 32 --max-model-len 131072 --max-num-batched-tokens 8192 --num-iters-warmup 0 --num-iters 1 --output-json $R/long-131000.json > $R/long-131000.log 2>&1
  echo "long rc=$?"; tail -4 $R/long-131000.log
  nvidia-smi --query-gpu=memory.used --format=csv >> $R/gpu.csv 2>&1
  save
fi
if has serve; then
  echo "== serve ($(left) s left)"
  bash tools/device/serve-bench.sh $R/serve $(( DEADLINE - ${HF_RESERVE:-0} ))
  save
fi
HFPARTS=""
for p in decode prefill vision long static; do has hf-$p && HFPARTS=$HFPARTS${HFPARTS:+,}$p; done
if [ -n "$HFPARTS" ]; then
  echo "== transformers: $HFPARTS ($(left) s left)"
  cd "$ROOT"
  T=$(( $(left) - 5 ))
  timeout $T python3 tools/reference/hf_bench.py --parts $HFPARTS --iters 3 --deadline $(( $(date +%s) + T - 10 )) --out $R/hf_bench.json > $R/hf_bench.log 2>&1; echo "hf rc=$?"
  tail -5 $R/hf_bench.log
  save
fi
echo "done at $(( $(date +%s) - START )) s"
