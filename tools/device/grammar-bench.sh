#!/usr/bin/env bash
# Structured outputs on the GPU machine, from the unpacked stage (cwd), results into <out>:
#   the CUDA token-bitmask test, then bench latency constrained vs free at batch 64 and 1 on the
#   full-size dummy model (JSON schema <schema>, tekken.json from STAGE_TEKKEN).
#   bash grammar-bench.sh <out dir> <schema.json>
set -uo pipefail
out=${1:?usage: grammar-bench.sh <out dir> <schema.json>}
schema=${2:?usage: grammar-bench.sh <out dir> <schema.json>}
mkdir -p "$out"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$out/gpu.csv" 2>&1
timeout 45 node scripts/run-tests.mjs --cuda tokenBitmask > "$out/cuda-test.log" 2>&1; echo "rc=$?" >> "$out/cuda-test.log"
common=(bench latency --model mistral-small-3.1-24b --load-format dummy --device cuda --tokenizer tekken.json --skip-matmul --input-len 32 --structured-outputs-json "$schema")
timeout 95 node dist/src/cli/main.js "${common[@]}" --batch-size 64 --output-len 32 --num-iters-warmup 1 --num-iters 2 --output-json "$out/b64.json" > "$out/b64.log" 2>&1; echo "rc=$?" >> "$out/b64.log"
timeout 60 node dist/src/cli/main.js "${common[@]}" --batch-size 1 --output-len 64 --num-iters-warmup 1 --num-iters 3 --output-json "$out/b1.json" > "$out/b1.log" 2>&1; echo "rc=$?" >> "$out/b1.log"
