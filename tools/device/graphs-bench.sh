#!/usr/bin/env bash
# One device call for decode graphs, long context and GPU serving (branch graphs): CUDA tests,
# batch-1 decode with graphs and with --enforce-eager (same card), a 131000-token prompt in
# 8192-token chunks, then tools/device/serve-bench.sh. Each step under its own timeout; the
# results are re-packed into $OUT/results.tar.gz after each step.
#   bash <stage dir>/tools/device/graphs-bench.sh <stage dir holding stage.tar.xz> [total seconds, default 520]
set -u
X=${1:?usage: graphs-bench.sh <dir with stage.tar.xz> [seconds]}
START=$(date +%s); export START
DEADLINE=$(( START + ${2:-520} ))
R=/tmp/res; mkdir -p $R
source .device/bootstrap.sh >/dev/null
mkdir -p /tmp/cr && tar -xJf "$X/stage.tar.xz" -C /tmp/cr
nvidia-smi --query-gpu=name,memory.total,memory.used,driver_version,clocks.sm,clocks.max.sm,power.draw,temperature.gpu --format=csv > $R/gpu.csv 2>&1
cat $R/gpu.csv
cd /tmp/cr
save() { tar -C $R -czf "$OUT/results.tar.gz" . ; }
left() { echo $(( DEADLINE - $(date +%s) )); }
LAT="node dist/src/cli/main.js bench latency --model mistral-small-3.1-24b --load-format dummy --device cuda --skip-matmul"
echo "== tests ($(left) s left)"
# The graph == eager test first (it compiles only the kernels it needs), then the whole suite.
timeout 60 node scripts/run-tests.mjs --cuda decodeGraphs > $R/cuda-tests-graphs.log 2>&1; echo "graph tests rc=$?"
grep -E "^# (tests|pass|fail)|^not ok" $R/cuda-tests-graphs.log | head -8
timeout ${TESTS_TIMEOUT:-150} node scripts/run-tests.mjs --cuda > $R/cuda-tests.log 2>&1; echo "tests rc=$?"
grep -E "^# (tests|pass|fail)|^not ok|cuda graphs" $R/cuda-tests.log | sort -u | head -20
save
echo "== decode ($(left) s left)"
for mode in graphs eager; do
  flag=""; [ $mode = eager ] && flag="--enforce-eager"
  timeout 60 $LAT --batch-size 1 --input-len 128 --output-len 128 --num-iters-warmup 1 --num-iters 3 $flag --output-json $R/decode-$mode.json > $R/decode-$mode.log 2>&1
  echo "decode $mode rc=$?"; grep -E "decode \(median\)|output tokens/s|Error|error" $R/decode-$mode.log | head -4
done
for mode in graphs eager; do
  flag=""; [ $mode = eager ] && flag="--enforce-eager"
  timeout 40 $LAT --batch-size 32 --input-len 128 --output-len 64 --num-iters-warmup 1 --num-iters 2 $flag --output-json $R/decode32-$mode.json > $R/decode32-$mode.log 2>&1
  echo "decode batch 32 $mode rc=$?"; grep -E "decode \(median\)|Error|error" $R/decode32-$mode.log | head -3
done
save
echo "== long context ($(left) s left)"
T=$(( $(left) - 140 )); [ $T -gt 200 ] && T=200; [ $T -lt 30 ] && T=30
timeout $T $LAT --batch-size 1 --input-len 131000 --output-len 32 --max-model-len 131072 --max-num-batched-tokens 8192 --num-iters-warmup 0 --num-iters 1 --output-json $R/long-131000.json > $R/long-131000.log 2>&1
echo "long rc=$?"; tail -4 $R/long-131000.log
nvidia-smi --query-gpu=memory.used --format=csv >> $R/gpu.csv 2>&1
save
echo "== serve ($(left) s left)"
bash tools/device/serve-bench.sh $R/serve $DEADLINE
save
echo "done at $(( $(date +%s) - START )) s"
