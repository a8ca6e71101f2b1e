"""Roofline of a `tramontane bench serve` run on the full-size model (issue 6).

Roofline = prefill FLOPs at the measured bf16 GEMM rate + the decode steps' weight and KV bytes
at the measured memory bandwidth, for the work the server did: prompt tokens served from the
prefix cache are not prefill work (the counters of /metrics before and after the level say how
many there were). Decode steps: every request's output tokens after the first, run at the
level's concurrency (steps = requests x (output - 1) / concurrency), each reading all weights
once plus every running sequence's KV.

    python3 tools/device/serve_roofline.py serve-c64.json metrics-after-c32.txt metrics-after-c64.txt
    (metrics before: the previous level's file, or - when the server was fresh)

Model constants: docs/model.md#dimensions (Mistral Small 3.1 text decoder); ceilings: bench/notes/cuda.md.
"""

from __future__ import annotations

import argparse
import json
import re

HIDDEN, LAYERS, HEADS, KV_HEADS, HEAD_DIM, INTER, VOCAB = 5120, 40, 32, 8, 128, 32768, 131072
# Per layer: q, k, v, o projections and the gated MLP (w1, w3, w2).
LINEAR_PER_LAYER = HIDDEN * HEADS * HEAD_DIM + 2 * HIDDEN * KV_HEADS * HEAD_DIM + HEADS * HEAD_DIM * HIDDEN + 3 * HIDDEN * INTER
LINEAR_PARAMS = LAYERS * LINEAR_PER_LAYER  # 22.23 G: FLOPs per prompt token = 2 x this
# Weights a decode step reads: bf16 45.8 GB (issue 5's figure); FP8 linears (1 byte + a 4-byte
# scale a row) with bf16 lm_head and embeddings: 23.6 GB (bench/notes/fp8.md).
WEIGHT_BYTES = {'bf16': 45.8e9, 'fp8': 23.6e9}
KV_BYTES_PER_TOKEN = LAYERS * 2 * KV_HEADS * HEAD_DIM * 2  # 160 KiB


def counters(path: str) -> dict[str, float]:
    """Counters and histogram sums/counts of a /metrics dump, keyed by name (+ kind label)."""
    if path == '-':
        return {}
    out: dict[str, float] = {}
    for line in open(path, encoding='utf8'):
        m = re.match(r'^([a-z:_]+(?:_total|_sum|_count))(?:\{([^}]*)\})? ([0-9.e+-]+)$', line.strip())
        if m:
            kind = re.search(r'kind="([a-z]+)"', m.group(2) or '')
            out[m.group(1) + (f'[{kind.group(1)}]' if kind else '')] = float(m.group(3))
    return out


def causal_attention_flops(start: int, end: int) -> float:
    """Attention FLOPs of prompt positions start..end-1 (each sees its prefix): QK^T and PV."""
    pairs = sum(p + 1 for p in range(start, end))
    return 4.0 * pairs * HEAD_DIM * HEADS * LAYERS


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('serve_json')
    ap.add_argument('metrics_before')
    ap.add_argument('metrics_after')
    ap.add_argument('--gemm-tflops', type=float, default=778.0)
    ap.add_argument('--bandwidth-gbs', type=float, default=3000.0)
    ap.add_argument('--weights', choices=sorted(WEIGHT_BYTES), default='bf16',
                    help='fp8: FP8 linears (pass the FP8 GEMM rate as --gemm-tflops)')
    a = ap.parse_args()
    r = json.load(open(a.serve_json, encoding='utf8'))
    before, after = counters(a.metrics_before), counters(a.metrics_after)
    hits = after.get('vllm:prefix_cache_hits_total', 0) - before.get('vllm:prefix_cache_hits_total', 0)
    n, c = r['completed'], r['max_concurrency']
    inp, outp = r['total_input_tokens'] / n, r['total_output_tokens'] / n
    cached_per_req = hits / n  # cached tokens are whole blocks at the prompt's start
    start = int(round(cached_per_req))
    prefill_flops = n * (2.0 * LINEAR_PARAMS * (inp - start) + causal_attention_flops(start, int(inp)))
    prefill_s = prefill_flops / (a.gemm_tflops * 1e12)
    steps = n * (outp - 1) / c
    kv_bytes = n * sum(inp + j for j in range(1, int(outp))) * KV_BYTES_PER_TOKEN
    decode_s = (steps * WEIGHT_BYTES[a.weights] + kv_bytes) / (a.bandwidth_gbs * 1e9)
    roof = prefill_s + decode_s
    delta = lambda k: after.get(k, 0) - before.get(k, 0)  # noqa: E731
    steps_seen = {}
    for kind in ('decode', 'mixed'):
        count = delta(f'tramontane:step_execute_seconds_count[{kind}]')
        total = delta(f'tramontane:step_execute_seconds_sum[{kind}]')
        if count > 0:
            steps_seen[kind] = {'steps': count, 'seconds': total, 'mean_ms': 1000 * total / count}
    res = {
        'requests': n, 'concurrency': c, 'prefix_cache_hit_tokens': hits,
        'prefill_pflop': prefill_flops / 1e15, 'prefill_s': prefill_s,
        'decode_steps': steps, 'kv_tb': kv_bytes / 1e12, 'decode_s': decode_s,
        'roofline_s': roof, 'measured_s': r['duration'], 'fraction_of_roofline': roof / r['duration'],
        'steps_measured': steps_seen,
        'ceilings': {'gemm_tflops': a.gemm_tflops, 'bandwidth_gbs': a.bandwidth_gbs},
    }
    print(json.dumps(res, indent=1))


if __name__ == '__main__':
    main()
