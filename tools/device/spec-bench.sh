#!/usr/bin/env bash
# Speculative decoding on the GPU machine (issue 14), from an unpacked stage (stage-cuda.sh):
# full Mistral Small 3.1 dims, dummy weights, through the engine, plain decoding first in the
# same process. (1) verify-step cost for k = 1..8 at batch 1 and 8 (replay drafts all rejected:
# every step verifies k drafts); (2) batch-1 end-to-end decode tok/s with the recorded greedy
# continuation as draft (k = 4) at 100/75/50/25% acceptance and per-token rates 0.75/0.5/0.25, at 0% with
# n-gram's back-off (replay_adaptive) and n-gram itself; (3) the CUDA speculative test.
#   tools/device/spec-bench.sh <out dir> [output len]
set -euo pipefail
out=${1:?usage: spec-bench.sh <out dir> [output len]}
len=${2:-128}
mkdir -p "$out"
cli=(node dist/src/cli/main.js bench latency --model mistral-small-3.1-24b --load-format dummy --device cuda --input-len 64 --output-len "$len" --num-iters-warmup 1 --num-iters 3)
verify=$(for k in 1 2 3 4 5 6 7 8; do printf '{"method":"replay","num_speculative_tokens":%d,"replay_accept_rate":0},' "$k"; done)
# Per-token accept rates: 0.8882 / 0.7413 / 0.5188 give 75% / 50% / 25% of k=4 drafts accepted
# (4, 3, 2 tokens a step); 0.75 / 0.5 / 0.25 as per-token rates.
e2e='{"method":"replay","num_speculative_tokens":4,"replay_accept_rate":1},{"method":"replay","num_speculative_tokens":4,"replay_accept_rate":0.8882},{"method":"replay","num_speculative_tokens":4,"replay_accept_rate":0.7413},{"method":"replay","num_speculative_tokens":4,"replay_accept_rate":0.5188},{"method":"replay","num_speculative_tokens":4,"replay_accept_rate":0.75},{"method":"replay","num_speculative_tokens":4,"replay_accept_rate":0.5},{"method":"replay","num_speculative_tokens":4,"replay_accept_rate":0.25},{"method":"replay","num_speculative_tokens":4,"replay_accept_rate":0,"replay_adaptive":true},{"method":"ngram","num_speculative_tokens":4}'
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$out/card.txt"
"${cli[@]}" --batch-size 1 --speculative-config "[${verify}${e2e}]" --output-json "$out/spec-b1.json" 2>&1 | tee "$out/spec-b1.log"
"${cli[@]}" --batch-size 8 --speculative-config "[${verify%,}]" --output-json "$out/spec-b8.json" 2>&1 | tee "$out/spec-b8.log"
node scripts/run-tests.mjs --cuda speculative 2>&1 | tee "$out/spec-cuda-tests.log"
