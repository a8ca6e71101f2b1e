#!/usr/bin/env bash
# FP8 (issue 16) on the GPU machine in one call: the torch reference (written into the staged
# fixtures, so the tests read it, and copied out to be committed), the CUDA tests, GEMM shapes
# against torch._scaled_mm and bf16, and batch-1 decode / 4096-token prefill at full 24B dims
# (dummy weights) in FP8 and bf16. Each part under its own timeout; results re-packed into
# $OUT/results.tar.gz after each part.
#   bash tools/device/fp8-bench.sh <dir holding stage.tar.xz> <parts> [seconds, default 540]
# Stage first (here): tools/device/stage-cuda.sh .xfer/fp8 --pack
# Parts (comma list), run in this order: ref, tests, decode, prefill (fp8 then bf16), gemm, torch.
# TESTS: test-file filters of the tests part (default "fp8 matmul"; ".cuda." for the whole suite).
# Part ab: batch-1 decode once per entry of AB (space-separated name=quant[,VAR=value...], e.g.
# "fp8=fp8 fp8-nopdl=fp8,TRAMONTANE_PDL=0 bf16=bf16"), each run with those TRAMONTANE_* switches.
set -u
X=${1:?usage: fp8-bench.sh <dir with stage.tar.xz> <parts> [seconds]}
PARTS=${2:?parts}
START=$(date +%s)
DEADLINE=$(( START + ${3:-540} ))
R=/tmp/res; mkdir -p $R
source .device/bootstrap.sh >/dev/null
mkdir -p /tmp/cr && tar -xJf "$X/stage.tar.xz" -C /tmp/cr
nvidia-smi --query-gpu=name,memory.total,memory.used,driver_version,clocks.sm,clocks.max.sm,power.draw,temperature.gpu --format=csv > $R/gpu.csv 2>&1
cat $R/gpu.csv; date -u > $R/date.txt
cd /tmp/cr
has() { [[ ",$PARTS," == *",$1,"* ]]; }
save() { tar -C $R -czf "$OUT/results.tar.gz" . ; }
left() { echo $(( DEADLINE - $(date +%s) )); }
cap() { local t=$1; local l; l=$(left); [ "$t" -gt "$l" ] && t=$l; [ "$t" -lt 1 ] && t=1; echo $t; }
if has ref; then
  echo "== torch reference ($(left) s left)"
  PYTHONUNBUFFERED=1 timeout $(cap 120) python3 tools/reference/fp8_reference.py --out test/fixtures/fp8/reference.json > $R/fp8-reference.log 2>&1; echo "ref rc=$?"
  tail -3 $R/fp8-reference.log; cp test/fixtures/fp8/reference.json $R/ 2>/dev/null
  save
fi
for f in fp8Linear fp8FullWidth; do
  has tests-$f || continue
  echo "== tests $f ($(left) s left)"
  timeout $(cap ${TEST_CAP:-45}) node --test --test-reporter=spec $(find dist/test -name "$f.cuda.test.js") > $R/test-$f.log 2>&1; echo "tests $f rc=$?"
  grep -E "^ *(✔|✖)|^ℹ (tests|pass|fail)|worst|ours vs|routes|Error|error" $R/test-$f.log | cut -c1-300 | head -30
  save
done
if has tests; then
  echo "== tests ($(left) s left)"
  timeout $(cap ${SUITE_CAP:-200}) node scripts/run-tests.mjs --cuda ${TESTS:-fp8 matmul} > $R/cuda-tests.log 2>&1; echo "tests rc=$?"
  grep -E "^# (tests|pass|fail)|^not ok|worst|ours vs|routes" $R/cuda-tests.log | cut -c1-400 | head -30
  grep -B2 -A12 "^not ok" $R/cuda-tests.log | grep -E "error|message|expected|actual|at " | head -20
  save
fi
LAT="node dist/src/cli/main.js bench latency --model mistral-small-3.1-24b --load-format dummy --device cuda --skip-matmul"
# decode_run <name> <seconds> <env assignments, space-separated> [--quantization fp8]: batch-1
# decode, 128 in / 128 out, into $R/decode-<name>.{json,log}.
decode_run() {
  local name=$1 secs=$2 vars=$3; shift 3
  env $vars timeout $(cap $secs) $LAT "$@" --batch-size 1 --input-len 128 --output-len 128 --num-iters-warmup 1 --num-iters 3 --output-json $R/decode-$name.json > $R/decode-$name.log 2>&1
  echo "decode $name rc=$?"; grep -E "decode \(median\)|output tokens/s|graphs disabled|load|Error|error" $R/decode-$name.log | head -5
}
for q in fp8 bf16; do
  flag=""; [ $q = fp8 ] && flag="--quantization fp8"
  if has decode; then
    echo "== decode $q ($(left) s left)"
    decode_run $q 90 "" $flag
    save
  fi
  if has prefill; then
    echo "== prefill $q ($(left) s left)"
    timeout $(cap 90) $LAT $flag --batch-size 1 --input-len 4096 --output-len 2 --max-num-batched-tokens 4096 --num-iters-warmup 1 --num-iters 3 --output-json $R/prefill-$q.json > $R/prefill-$q.log 2>&1
    echo "prefill $q rc=$?"; grep -E "prefill|Error|error" $R/prefill-$q.log | head -4
    save
  fi
done
if has ab; then
  for entry in ${AB:-}; do
    name=${entry%%=*}; spec=${entry#*=}; quant=${spec%%,*}; vars=""
    [[ $spec == *,* ]] && vars=${spec#*,}
    flag=""; [ "$quant" = fp8 ] && flag="--quantization fp8"
    echo "== decode $name ($quant ${vars//,/ }; $(left) s left)"
    decode_run $name 60 "${vars//,/ }" $flag
    save
  done
fi
if has gemm; then
  echo "== gemm shapes ($(left) s left)"
  timeout $(cap ${GEMM_CAP:-150}) node dist/bench/cuda/fp8Gemm.js $R/fp8-gemm.json > $R/fp8-gemm.log 2>&1; echo "gemm rc=$?"
  cut -c1-230 $R/fp8-gemm.log | tail -40
  save
fi
if has torch; then
  echo "== torch shapes ($(left) s left)"
  timeout $(cap 120) python3 tools/reference/fp8_torch_bench.py --out $R/fp8-torch.json > $R/fp8-torch.log 2>&1; echo "torch rc=$?"
  cut -c1-200 $R/fp8-torch.log | tail -36
  save
fi
echo "done in $(( $(date +%s) - START )) s"
