"""torch at the FP8 GEMM shapes of bench/cuda/fp8Gemm.ts (issue 16), timed the same way: a CUDA
graph of one call per weight copy (>= 1 GB of weights), median of 9 replays, µs per call.
  - scaled_mm: torch._scaled_mm row-wise (E4M3 x [m, k] with scale [m, 1], E4M3 W with scale
    [1, n]), bf16 out, activations already quantized;
  - quant_scaled_mm: the same with the per-token activation quantization in front (what
    tramontane's FP8 linear does for m above its GEMV threshold);
  - bf16: x @ W.T in bf16.
Also the device-to-device copy bandwidth (bytes read + written), the ceiling for the GEMV.

    python3 tools/reference/fp8_torch_bench.py --out fp8-torch.json [--m 1,2,4,...]
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import sys

import torch

SHAPES = [('qkv', 6144, 5120), ('o_proj', 5120, 4096), ('gate_up', 65536, 5120), ('down', 5120, 32768)]


def quantize_rows(v: torch.Tensor):
    f = v.float()
    amax = f.abs().amax(dim=-1)
    scale = torch.where(amax > 0, amax / torch.full_like(amax, 448.0), torch.ones_like(amax))
    return (f / scale[:, None]).clamp(-448.0, 448.0).to(torch.float8_e4m3fn), scale


def time_graph(copies: int, call) -> float:
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for c in range(copies):
            call(c)
    torch.cuda.current_stream().wait_stream(s)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        for c in range(copies):
            call(c)
    for _ in range(3):
        g.replay()
    ts = []
    for _ in range(9):
        e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        e0.record()
        g.replay()
        e1.record()
        e1.synchronize()
        ts.append(e0.elapsed_time(e1) * 1000 / copies)
    del g
    return sorted(ts)[4]


def copy_bandwidth() -> float:
    a = torch.empty(2 << 30, dtype=torch.uint8, device='cuda').random_(0, 255)
    b = torch.empty_like(a)
    us = time_graph(1, lambda c: b.copy_(a))
    return 2 * a.numel() / us / 1e3  # GB/s


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', required=True)
    ap.add_argument('--m', default='1,2,4,8,16,64,256,4096')
    args = ap.parse_args()
    ms = [int(x) for x in args.m.split(',')]
    torch.manual_seed(0)
    rows = []
    for what, n, k in SHAPES:
        copies8 = max(2, math.ceil(1e9 / (n * k)))
        copies16 = max(2, math.ceil(1e9 / (2 * n * k)))
        w16 = [(torch.rand(n, k, device='cuda', dtype=torch.bfloat16) * 2 - 1) * (3 / k) ** 0.5 for _ in range(copies16)]
        w8 = [quantize_rows(w16[c % copies16]) for c in range(copies8)]
        for m in ms:
            x = torch.rand(m, k, device='cuda', dtype=torch.bfloat16) * 2 - 1
            xq, xs = quantize_rows(x)
            xs = xs[:, None].contiguous()
            row = dict(what=what, m=m, n=n, k=k)
            try:
                row['scaled_mm_us'] = time_graph(copies8, lambda c: torch._scaled_mm(xq, w8[c][0].t(), scale_a=xs, scale_b=w8[c][1][None, :], out_dtype=torch.bfloat16))

                def quant_mm(c):
                    q, s = quantize_rows(x)
                    return torch._scaled_mm(q, w8[c][0].t(), scale_a=s[:, None], scale_b=w8[c][1][None, :], out_dtype=torch.bfloat16)
                row['quant_scaled_mm_us'] = time_graph(copies8, quant_mm)
            except RuntimeError as e:  # e.g. m not a multiple of 16 for some backends
                row['scaled_mm_error'] = str(e).splitlines()[0][:200]
            row['bf16_us'] = time_graph(copies16, lambda c: x @ w16[c].t())
            print(json.dumps(row), flush=True)
            rows.append(row)
        del w16, w8
        torch.cuda.empty_cache()
    out = dict(tool='tools/reference/fp8_torch_bench.py', command='python3 ' + ' '.join(sys.argv),
               date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
               card=torch.cuda.get_device_name(0), torch=torch.__version__, copy_GBps=copy_bandwidth(), rows=rows)
    print(json.dumps(dict(copy_GBps=out['copy_GBps'])), flush=True)
    with open(args.out, 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()
