#!/usr/bin/env bash
# One device call: the full-width reference (tools/reference/full_width.py), then the
# transformers baseline (tools/reference/hf_bench.py), inside a total budget of $1 seconds
# (default 400). Results and logs go to $OUT (or ./out).
#   bash tools/reference/run_baselines.sh 400
set -u
BUDGET=${1:-400}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-./out}
mkdir -p "$OUT"
START=$(date +%s)
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv > "$OUT/gpu.csv" 2>&1
echo "full_width: start $(date -u +%T)" >&2
timeout 150 python3 "$HERE/full_width.py" --ckpt /tmp/full_width_ckpt --out "$OUT/full_width.json" 2> "$OUT/full_width.log"
echo "full_width rc=$? at $(( $(date +%s) - START )) s" >&2
du -sh /tmp/full_width_ckpt >&2 2>/dev/null; rm -rf /tmp/full_width_ckpt
LEFT=$(( START + BUDGET - $(date +%s) ))
echo "hf_bench: $LEFT s left" >&2
timeout "$LEFT" python3 "$HERE/hf_bench.py" --deadline $(( START + BUDGET - 5 )) --out "$OUT/hf_bench.json" > /dev/null 2> "$OUT/hf_bench.log"
echo "hf_bench rc=$? at $(( $(date +%s) - START )) s" >&2
tail -n 5 "$OUT/full_width.log" "$OUT/hf_bench.log" >&2
