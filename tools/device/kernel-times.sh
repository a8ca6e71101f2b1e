#!/usr/bin/env bash
# The kernels of one batch-1 decode step at full 24B dims (dummy weights), each timed by Nsight
# Compute (gpu__time_duration, clocks and caches left alone), summed by kernel: what the step's
# time is made of, and how much of it is gaps between kernels (the step's wall time minus the
# sum). Run on the GPU machine from the unpacked stage (fp8-bench.sh's /tmp/cr):
#   bash tools/device/kernel-times.sh <out dir> fp8|bf16
set -u
R=${1:?out dir}; Q=${2:?fp8 or bf16}
flag=""; [ "$Q" = fp8 ] && flag="--quantization fp8"
NCU=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
# Serialized by ncu anyway; without programmatic launch the kernels run as they do in isolation.
TRAMONTANE_PDL=0 TRAMONTANE_ENFORCE_EAGER=${EAGER:-0} timeout ${NCU_CAP:-240} "$NCU" --clock-control none --cache-control none \
  --metrics gpu__time_duration.sum --csv --page raw --print-units base --launch-count ${NCU_COUNT:-6000} \
  node dist/src/cli/main.js bench latency --model mistral-small-3.1-24b --load-format dummy --device cuda --skip-matmul $flag \
  --batch-size 1 --input-len 16 --output-len 4 --num-iters-warmup 0 --num-iters 1 > "$R/ncu-$Q.csv" 2> "$R/ncu-$Q.err"
echo "ncu $Q rc=$?"
python3 tools/device/kernel_times.py "$R/ncu-$Q.csv" | tee "$R/kernel-times-$Q.txt"
