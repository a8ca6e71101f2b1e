#!/usr/bin/env bash
# cudarun device script: CUDA tests, full-size benchmarks, transformers baseline (same card).
#   bash .xfer/cudarun/run.sh <parts: tests,decode,prefill,vision,hf>
set -u
PARTS=${1:-tests,decode,prefill,vision,hf}
ROOT=$(pwd)
R=/tmp/res; mkdir -p $R
source .device/bootstrap.sh >/dev/null
mkdir -p /tmp/cr && tar -xJf .xfer/cudarun/stage.tar.xz -C /tmp/cr
nvidia-smi --query-gpu=name,memory.total,memory.used,driver_version,clocks.sm,clocks.max.sm,power.draw,temperature.gpu --format=csv > $R/gpu.csv 2>&1
cat $R/gpu.csv
cd /tmp/cr
has() { [[ ",$PARTS," == *",$1,"* ]]; }
CLI="node dist/src/cli/main.js bench latency --model mistral-small-3.1-24b --load-format dummy --device cuda --batch-size 1 --skip-matmul"
if has tests; then
  timeout 150 node scripts/run-tests.mjs --cuda > $R/cuda-tests.log 2>&1; echo "tests rc=$?"
  grep -E "^# (tests|pass|fail)|^tests:|^not ok|vs fp32|decode - prefill|chunked - whole" $R/cuda-tests.log | sort -u | head -30
fi
if has gemv; then
  timeout 60 node dist/bench/cuda/gemv.js $R/gemv.json > $R/gemv.log 2>&1; echo "gemv rc=$?"; cat $R/gemv.log | tail -5
fi
OK=1
if has decode; then
  timeout 90 $CLI --input-len 128 --output-len 128 --num-iters-warmup 1 --num-iters 3 --output-json $R/latency-decode.json > $R/latency-decode.log 2>&1; rc=$?; echo "decode rc=$rc"; [ $rc = 0 ] || OK=0
  tail -3 $R/latency-decode.log
  TRAMONTANE_GEMV_SPLITK_MAX_N=0 timeout 90 $CLI --input-len 128 --output-len 128 --num-iters-warmup 1 --num-iters 3 --output-json $R/latency-decode-no-splitk.json > $R/latency-decode-no-splitk.log 2>&1; echo "decode (split-K off) rc=$?"
  tail -2 $R/latency-decode-no-splitk.log
fi
if has prefill; then
  timeout 60 $CLI --input-len 4096 --output-len 2 --max-num-batched-tokens 4096 --num-iters-warmup 1 --num-iters 3 --output-json $R/latency-prefill.json > $R/latency-prefill.log 2>&1; echo "prefill rc=$?"
  tail -6 $R/latency-prefill.log
fi
if has vision; then
  timeout 60 node dist/bench/cuda/vision.js $R/vision.json 1540 > $R/vision.log 2>&1; echo "vision rc=$?"; tail -c 600 $R/vision.log; echo
fi
if has hf && [ $OK = 1 ]; then
  cd "$ROOT"
  HFPARTS=decode,prefill,vision; has static && HFPARTS=$HFPARTS,static
  timeout 300 python3 tools/reference/hf_bench.py --parts $HFPARTS --iters 3 --deadline $(( $(date +%s) + 290 )) --out $R/hf_bench.json > $R/hf_bench.log 2>&1; echo "hf rc=$?"
  tail -5 $R/hf_bench.log
  python3 -c "import json;r=json.load(open('$R/hf_bench.json'))['results'];print({k:{x:y for x,y in v.items() if 'tok_s' in x or 'tflop' in x} for k,v in r.items()})" 2>&1 | tail -2
fi
tar -C $R -czf $OUT/results.tar.gz .
