#!/usr/bin/env bash
# Issue 12's GPU measurements in one call, each part under its own timeout, results re-packed
# into $OUT/results.tar.gz after each part (a killed call keeps what it had):
#   1. write the full-size HF checkpoint into /dev/shm (tools/reference/write_full_checkpoint.py)
#      and time transformers' from_pretrained(dtype=bf16, device_map="cuda") on it;
#   2. the CUDA tests of the streaming loader (pinned staging, copies on their own stream);
#   3. `tramontane bench load` on the same files (libuv's default 4 threads, then 16);
#   4. `tramontane generate` with an image, the model found as mistralai/... in a HF cache
#      laid out in /dev/shm (snapshot files symlinked to the checkpoint's);
#   5. if time is left: the Mistral layout (one consolidated.safetensors) and bench load on it.
#   bash tools/device/load-bench.sh <dir holding stage.tar.xz> [seconds, default 300]
# Stage first (here): STAGE_TEKKEN=<full tekken.json> tools/device/stage-cuda.sh /work/main/.xfer/load --pack
set -u
X=${1:?usage: load-bench.sh <dir with stage.tar.xz> [seconds]}
START=$(date +%s)
DEADLINE=$(( START + ${2:-300} ))
R=/tmp/res; mkdir -p $R
source .device/bootstrap.sh >/dev/null
mkdir -p /tmp/cr && tar -xJf "$X/stage.tar.xz" -C /tmp/cr
nvidia-smi --query-gpu=name,memory.total,driver_version,pcie.link.gen.max,pcie.link.width.max --format=csv > $R/gpu.csv 2>&1
cat $R/gpu.csv; nproc > $R/nproc.txt; free -g > $R/free.txt
cd /tmp/cr
save() { tar -C $R -czf "$OUT/results.tar.gz" . ; }
left() { echo $(( DEADLINE - $(date +%s) )); }
CK=/dev/shm/ms31-hf
TM="node dist/src/cli/main.js"
echo "== write + transformers ($(left) s left)"
timeout 170 python3 tools/reference/write_full_checkpoint.py --out $CK --tekken tekken.json --time-hf > $R/hf.json 2> $R/hf.log
echo "write rc=$?"; cat $R/hf.json; tail -3 $R/hf.log; ls -la $CK | head -20 > $R/ckpt-ls.txt; du -sb $CK >> $R/ckpt-ls.txt
save
echo "== cuda tests ($(left) s left)"
timeout 60 node scripts/run-tests.mjs --cuda weightLoad > $R/cuda-tests.log 2>&1; echo "tests rc=$?"
grep -E "^# (tests|pass|fail)|^tests:|^not ok" $R/cuda-tests.log | head; save
echo "== bench load ($(left) s left)"
timeout 60 $TM bench load --model $CK --device cuda --output-json $R/load-hf.json > $R/load-hf.log 2> $R/load-hf.err; echo "rc=$?"; cat $R/load-hf.log; tail -2 $R/load-hf.err; save
UV_THREADPOOL_SIZE=16 timeout 60 $TM bench load --model $CK --device cuda --readers 16 --output-json $R/load-hf-16.json > $R/load-hf-16.log 2> $R/load-hf-16.err; echo "rc=$?"; cat $R/load-hf-16.log; save
echo "== generate with an image, model from a HF cache ($(left) s left)"
HUB=/dev/shm/hub; SNAP=$HUB/models--mistralai--Mistral-Small-3.1-24B-Instruct-2503/snapshots/0123456789abcdef0123456789abcdef01234567
mkdir -p $SNAP $HUB/models--mistralai--Mistral-Small-3.1-24B-Instruct-2503/refs
echo -n 0123456789abcdef0123456789abcdef01234567 > $HUB/models--mistralai--Mistral-Small-3.1-24B-Instruct-2503/refs/main
for f in $CK/*; do ln -sf $f $SNAP/; done
HF_HUB_CACHE=$HUB UV_THREADPOOL_SIZE=16 timeout 120 $TM generate --model mistralai/Mistral-Small-3.1-24B-Instruct-2503 --device cuda --image test/fixtures/image/inputs/baseline_444.jpg --prompt "Describe the image." --max-tokens 16 --max-model-len 8192 > $R/generate.out 2> $R/generate.err
echo "generate rc=$?"; cat $R/generate.out; tail -5 $R/generate.err; save
if [ "$(left)" -gt 80 ]; then
  echo "== mistral layout ($(left) s left)"
  rm -rf $HUB
  timeout $(( $(left) - 45 )) python3 tools/reference/write_full_checkpoint.py --out $CK --skip-write --mistral-out /dev/shm/ms31-mistral --params assets/configs/mistral-small-3.1-24b/params.json > $R/mistral-write.json 2> $R/mistral-write.log
  echo "mistral write rc=$?"; cat $R/mistral-write.json; save
  rm -rf $CK
  UV_THREADPOOL_SIZE=16 timeout $(( $(left) - 5 )) $TM bench load --model /dev/shm/ms31-mistral --device cuda --readers 16 --output-json $R/load-mistral-16.json > $R/load-mistral-16.log 2> $R/load-mistral-16.err; echo "rc=$?"; cat $R/load-mistral-16.log; save
fi
rm -rf /dev/shm/ms31-hf /dev/shm/ms31-mistral /dev/shm/hub
echo "done in $(( $(date +%s) - START )) s"; save
