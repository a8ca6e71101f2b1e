"""FP8 reference for the CUDA backend (issue 16), written with torch on the GPU machine.

The model is test/fixtures/full-width's: the real Mistral Small 3.1 text dimensions with 2 decoder
layers (and the Pixtral encoder, unused here), weights from tramontane's dummy generator (seed 0),
so `--load-format dummy` with that config is the same model. FP8 is applied as tramontane applies
it (and vLLM's online FP8): every text-decoder linear weight (q, k, v, o, gate, up, down) quantized
per output row, scale = absmax / 448 in f32 (a zero row: 1), code = e4m3(f32(w / scale)) rounded to
nearest even, saturating; activations quantized per token by the same rule; the product by
torch._scaled_mm with row-wise scales (scale_a [m, 1], scale_b [1, n]), bf16 out. Embeddings,
norms, attention and lm_head stay bf16.

Writes one JSON (test/fixtures/fp8/reference.json):
  - `gemms`: layer 0's four linears (wqkv [6144, 5120], wo [5120, 4096], w13 [65536, 5120],
    w2 [5120, 32768]) at m = 1 and m = 64 with x from the dummy generator (name
    'fp8_reference.x', scale 1): checksums of the quantized codes and scales (the device
    quantization must equal them exactly) and 256 sampled outputs at each m, by _scaled_mm with
    the activations quantized per token (what tramontane computes at every m from sm_89: the
    skinny tensor-core kernel for m <= 16, cuBLASLt above);
  - `prompts[0]`: a 32-token text prompt through the FP8 model: at every position the fp8 top-8
    ids and logprobs; and the drift of FP8 against the bf16 model over every position and the
    whole vocabulary (max / mean |delta logprob|, top-1 agreement).

    python3 tools/reference/fp8_reference.py --out test/fixtures/fp8/reference.json
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time

import numpy as np
import torch
import transformers
from transformers import Mistral3ForConditionalGeneration

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dummy_weights import fill_tensor_torch, tensor_key, values_torch  # noqa: E402
from full_width import BOS, canonical, compare, make_config, to_bf16_keeping_buffers  # noqa: E402

E4M3_MAX = 448.0
TOP_K = 8
X_NAME = 'fp8_reference.x'
SAMPLES = 256


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def quantize_rows(v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-row E4M3 quantization of a 2-D tensor (bf16 values): codes (float8_e4m3fn), f32 scales."""
    f = v.float()
    amax = f.abs().amax(dim=-1)
    # Tensor by tensor: torch runs `tensor / python_float` on CUDA as a multiply by the f32
    # reciprocal, one ulp off the IEEE quotient for some amax (the committed reference of
    # 2026-12-03 was written that way: test/model/fp8Reference.test.ts accounts for it).
    scale = torch.where(amax > 0, amax / torch.full_like(amax, E4M3_MAX), torch.ones_like(amax))
    q = (f / scale[:, None]).clamp(-E4M3_MAX, E4M3_MAX).to(torch.float8_e4m3fn)
    return q, scale


def fp8_linear(x: torch.Tensor, wq: torch.Tensor, ws: torch.Tensor) -> torch.Tensor:
    """x [..., in] bf16 -> [..., out] bf16: per-token quantization, then _scaled_mm row-wise."""
    shape = x.shape
    x2 = x.reshape(-1, shape[-1])
    xq, xs = quantize_rows(x2)
    y = torch._scaled_mm(xq, wq.t(), scale_a=xs[:, None].contiguous(), scale_b=ws[None, :].contiguous(), out_dtype=torch.bfloat16)
    return y.reshape(*shape[:-1], wq.shape[0])


class Fp8Linear(torch.nn.Module):
    def __init__(self, weight: torch.Tensor):
        super().__init__()
        self.wq, self.ws = quantize_rows(weight.data.to(torch.bfloat16))

    def forward(self, x):
        return fp8_linear(x, self.wq, self.ws)


def code_checksums(q: torch.Tensor) -> dict:
    """Exact integer checksums of E4M3 codes: their byte sum, and the sum weighted by (i % 251) + 1."""
    b = q.view(torch.uint8).reshape(-1).to(torch.int64)
    w = torch.arange(b.numel(), device=b.device, dtype=torch.int64) % 251 + 1
    return dict(sum=int(b.sum()), weighted=int((b * w).sum()))


def sample_indices(count: int) -> list[int]:
    return sorted({(j * 104729 + 7) % count for j in range(SAMPLES)})


@torch.no_grad()
def logprobs(model, ids: list[int]) -> torch.Tensor:
    logits = model(input_ids=torch.tensor([ids], device='cuda'), use_cache=False).logits[0]
    return torch.log_softmax(logits.float(), dim=-1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', required=True)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--text-len', type=int, default=32)
    args = ap.parse_args()
    t_start = time.time()
    torch.backends.cuda.matmul.allow_tf32 = False
    report = dict(
        tool='tools/reference/fp8_reference.py', command='python3 ' + ' '.join(sys.argv),
        date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        card=torch.cuda.get_device_name(0), torch=torch.__version__, transformers=transformers.__version__,
        seed=args.seed, model=dict(text=dict(layers=2, hidden=5120, inter=32768, heads=32, kv_heads=8, head_dim=128)),
        quantization='per-row weights, per-token activations, absmax/448, RNE, saturating; torch._scaled_mm row-wise',
    )
    cfg = make_config(2)
    with torch.device('cuda'):
        model = Mistral3ForConditionalGeneration._from_config(cfg, dtype=torch.float32, attn_implementation='sdpa')
    model.eval()
    params = {}
    with torch.no_grad():
        for hf_name, p in model.named_parameters():
            fill_tensor_torch(p, args.seed, canonical(hf_name))
    to_bf16_keeping_buffers(model)  # as full_width.py: RoPE buffers stay f32
    params = {canonical(n): p for n, p in model.named_parameters()}
    log(f'built in {time.time() - t_start:.1f} s')

    # ---- GEMMs of layer 0 ----
    fused = {
        'wqkv': ['layers.0.attention.wq', 'layers.0.attention.wk', 'layers.0.attention.wv'],
        'wo': ['layers.0.attention.wo'],
        'w13': ['layers.0.feed_forward.w1', 'layers.0.feed_forward.w3'],
        'w2': ['layers.0.feed_forward.w2'],
    }
    report['gemms'] = []
    for name, parts in fused.items():
        w = torch.cat([params[p].data for p in parts], dim=0)
        n, k = w.shape
        wq, ws = quantize_rows(w)
        entry = dict(name=name, parts=parts, n=n, k=k, codes=code_checksums(wq),
                     scales_sum=float(ws.double().sum()), scales_head=ws[:16].tolist(), scales_tail=ws[-16:].tolist(), runs=[])
        for m in (1, 64):
            x = values_torch(tensor_key(args.seed, X_NAME), np.float32(1.0), np.float32(0.0), 0, m * k, 'cuda').to(torch.bfloat16).view(m, k)
            y = fp8_linear(x, wq, ws).float()
            idx = sample_indices(m * n)
            flat = y.reshape(-1)
            entry['runs'].append(dict(m=m, path='_scaled_mm, bf16 out',
                                      indices=idx, values=[float(flat[i]) for i in idx]))
        report['gemms'].append(entry)
        log(f'{name} [{n}, {k}] done')

    # ---- the model: bf16, then FP8 ----
    rng = np.random.default_rng(args.seed)
    ids = [BOS] + [int(x) for x in rng.integers(1000, 131072, args.text_len - 1)]
    lp16 = logprobs(model, ids)
    lm = model.model.language_model
    for layer in lm.layers:
        for mod, names in ((layer.self_attn, ('q_proj', 'k_proj', 'v_proj', 'o_proj')), (layer.mlp, ('gate_proj', 'up_proj', 'down_proj'))):
            for nm in names:
                setattr(mod, nm, Fp8Linear(getattr(mod, nm).weight))
    lp8 = logprobs(model, ids)
    drift = compare(lp16, lp8)  # "fp32" slot = bf16 model, "bf16" slot = fp8 model
    recorded = []
    for p in range(len(ids)):
        t8 = torch.topk(lp8[p], TOP_K)
        recorded.append(dict(position=p, top_ids=t8.indices.tolist(), top_logprobs=[round(x, 6) for x in t8.values.tolist()],
                             bf16_logprobs_at_top_ids=[round(x, 6) for x in lp16[p, t8.indices].tolist()]))
    report['prompts'] = [dict(name='text', token_ids=ids, fp8_vs_bf16=dict(
        positions=drift['positions'], max_abs_all_vocab=drift['max_abs_all_vocab'], mean_abs_all_vocab=drift['mean_abs_all_vocab'],
        max_abs_top8=drift['max_abs_top8'], mean_abs_top8=drift['mean_abs_top8'], top1_agree=drift['argmax_agree']),
        recorded=recorded)]
    log(f'fp8 vs bf16: {report["prompts"][0]["fp8_vs_bf16"]}')
    # The FP8 model's own sensitivity to bf16-level differences outside the GEMMs: the same FP8
    # model with eager attention (bf16 QK^T, f32 softmax, bf16 PV) instead of SDPA. Two correct
    # implementations differ this much; tests bound ours against torch by a multiple of it.
    try:
        model.set_attn_implementation('eager')
        lp8e = logprobs(model, ids)
        spread = compare(lp8, lp8e)  # top-8 of the SDPA run, |eager - sdpa| at those ids
        report['prompts'][0]['fp8_self_spread'] = dict(
            what='torch FP8 model, eager vs sdpa attention', max_abs_top8=spread['max_abs_top8'],
            mean_abs_top8=spread['mean_abs_top8'], max_abs_all_vocab=spread['max_abs_all_vocab'],
            mean_abs_all_vocab=spread['mean_abs_all_vocab'], top1_agree=spread['argmax_agree'])
        log(f'fp8 self spread: {report["prompts"][0]["fp8_self_spread"]}')
    except Exception as e:  # an older transformers without set_attn_implementation
        log(f'fp8 self spread not measured: {e}')
    report['seconds'] = round(time.time() - t_start, 1)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(report, f, indent=1)
        f.write('\n')
    log(f'wrote {args.out}')


if __name__ == '__main__':
    main()
