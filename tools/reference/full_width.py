"""Full-width reference for the CUDA backend (issue 5): a Mistral Small 3.1 with the REAL text
dimensions but --text-layers (2) decoder layers, and the full 24-layer Pixtral encoder and
projector, saved as a real HF checkpoint (bf16), plus transformers' logprobs for a text prompt
and a 1540x1540 image prompt, in bf16 and in fp32, and how far transformers' own bf16 is from
its fp32 (the basis of the tolerance a CUDA test states).

Run on the GPU machine (torch, transformers >= 5, numpy):

    python3 tools/reference/full_width.py --ckpt <dir> --out <reference.json>

The weights are tramontane's dummy-weight generator (tools/reference/dummy_weights.py, the same
function as src/model/dummyWeights.ts) under canonical names with --seed, so they are the same on
any card and any torch version, and `--load-format dummy` with this config gives the very same
model without the checkpoint. The pixels come from the same generator: tensor name
"full_width.pixels", scale 2, offset 0.2 (values in [-1.8, 2.2), already "normalised"), rounded
to bf16, layout [3, H, W]. The checkpoint (about 5.8 GB) is never committed: a test regenerates
it in the same device call and compares against the committed JSON.

The fp32 run uses the bf16-rounded weights and pixels upcast, with TF32 off (matmul and cuDNN).
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
from transformers import Mistral3Config, Mistral3ForConditionalGeneration, MistralConfig, PixtralVisionConfig

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dummy_weights import bf16_bits_np, fill_spec, fill_tensor_torch, tensor_key, values_np, values_torch  # noqa: E402

IMG, IMG_BREAK, IMG_END, BOS = 10, 12, 13, 1
TOP_K = 8
PIXEL_NAME, PIXEL_SCALE, PIXEL_OFFSET = 'full_width.pixels', 2.0, 0.2


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def make_config(text_layers: int) -> Mistral3Config:
    text = MistralConfig(
        vocab_size=131072, hidden_size=5120, intermediate_size=32768, num_hidden_layers=text_layers,
        num_attention_heads=32, num_key_value_heads=8, head_dim=128, hidden_act='silu',
        max_position_embeddings=131072, rms_norm_eps=1e-5,
        rope_parameters={'rope_type': 'default', 'rope_theta': 1e9}, sliding_window=None,
        tie_word_embeddings=False, bos_token_id=1, eos_token_id=2,
    )
    vision = PixtralVisionConfig(
        hidden_size=1024, intermediate_size=4096, num_hidden_layers=24, num_attention_heads=16, num_channels=3,
        image_size=1540, patch_size=14, hidden_act='silu', head_dim=64,
        rope_parameters={'rope_type': 'default', 'rope_theta': 1e4},
    )
    cfg = Mistral3Config(vision_config=vision, text_config=text, image_token_index=IMG, projector_hidden_act='gelu',
                         vision_feature_layer=-1, multimodal_projector_bias=False, spatial_merge_size=2,
                         tie_word_embeddings=False)
    assert cfg.vision_config.hidden_act == 'silu' and cfg.text_config.head_dim == 128
    return cfg


TEXT_PARTS = {
    'input_layernorm': 'attention_norm', 'post_attention_layernorm': 'ffn_norm',
    'self_attn.q_proj': 'attention.wq', 'self_attn.k_proj': 'attention.wk', 'self_attn.v_proj': 'attention.wv',
    'self_attn.o_proj': 'attention.wo', 'mlp.gate_proj': 'feed_forward.w1', 'mlp.down_proj': 'feed_forward.w2',
    'mlp.up_proj': 'feed_forward.w3',
}
VISION_PARTS = {
    'attention_norm': 'attention_norm', 'ffn_norm': 'ffn_norm', 'attention.q_proj': 'attention.wq',
    'attention.k_proj': 'attention.wk', 'attention.v_proj': 'attention.wv', 'attention.o_proj': 'attention.wo',
    'feed_forward.gate_proj': 'feed_forward.w1', 'feed_forward.down_proj': 'feed_forward.w2',
    'feed_forward.up_proj': 'feed_forward.w3',
}
PROJECTOR = {'norm': 'projector.norm', 'patch_merger.merging_layer': 'projector.patch_merger',
             'linear_1': 'projector.linear_1', 'linear_2': 'projector.linear_2'}


def canonical(hf: str) -> str:
    """Either HF naming generation -> tramontane's canonical name (src/model/weights.ts)."""
    assert hf.endswith('.weight'), hf
    n = hf[: -len('.weight')]
    if n in ('lm_head', 'language_model.lm_head'):
        return 'output'
    for prefix in ('model.language_model.', 'language_model.model.'):
        if n.startswith(prefix):
            rest = n[len(prefix):]
            if rest == 'embed_tokens':
                return 'tok_embeddings'
            if rest == 'norm':
                return 'norm'
            _, layer, part = rest.split('.', 2)
            return f'layers.{layer}.{TEXT_PARTS[part]}'
    for prefix in ('model.vision_tower.', 'vision_tower.'):
        if n.startswith(prefix):
            rest = n[len(prefix):]
            if rest in ('patch_conv', 'ln_pre'):
                return f'vision.{rest}'
            _, _, layer, part = rest.split('.', 3)  # transformer.layers.L.part
            return f'vision.layers.{layer}.{VISION_PARTS[part]}'
    for prefix in ('model.multi_modal_projector.', 'multi_modal_projector.'):
        if n.startswith(prefix):
            return PROJECTOR[n[len(prefix):]]
    raise KeyError(f'no canonical name for {hf}')


def to_bf16_keeping_buffers(model) -> None:
    """Parameters to bf16; float buffers (RoPE inv_freq) stay fp32, as from_pretrained(dtype=bf16)
    leaves them (they are computed in float32 at construction, never loaded)."""
    kept = [(m, n, b) for m in model.modules() for n, b in m._buffers.items() if b is not None and b.is_floating_point()]
    model.to(torch.bfloat16)
    for m, n, b in kept:
        m._buffers[n] = b


def image_tokens(h: int, w: int) -> list[int]:
    toks = ([IMG] * (w // 28) + [IMG_BREAK]) * (h // 28)
    toks[-1] = IMG_END
    return toks


def make_pixels(seed: int, side: int) -> torch.Tensor:
    n = 3 * side * side
    v = values_torch(tensor_key(seed, PIXEL_NAME), np.float32(PIXEL_SCALE), np.float32(PIXEL_OFFSET), 0, n, 'cuda')
    return v.to(torch.bfloat16).to(torch.float32).view(1, 3, side, side)


@torch.no_grad()
def all_logprobs(model, ids: list[int], pixels, dtype) -> torch.Tensor:
    kw = dict(input_ids=torch.tensor([ids], device='cuda'), use_cache=False)
    if pixels is not None:
        kw.update(pixel_values=pixels.to(dtype), image_sizes=torch.tensor([list(pixels.shape[2:])], device='cuda'))
    logits = model(**kw).logits[0]
    return torch.log_softmax(logits.float(), dim=-1)  # [L, vocab]


def compare(lp32: torch.Tensor, lp16: torch.Tensor) -> dict:
    """How far transformers' bf16 logprobs are from its fp32 ones, over every position."""
    d = (lp16 - lp32).abs()
    top32 = torch.topk(lp32, TOP_K, dim=-1)
    dtop = (lp16.gather(1, top32.indices) - top32.values).abs()
    arg16 = lp16.argmax(-1)
    return dict(
        positions=int(lp32.shape[0]),
        max_abs_all_vocab=float(d.max()), mean_abs_all_vocab=float(d.mean()),
        max_abs_top8=float(dtop.max()), mean_abs_top8=float(dtop.mean()),
        p99_abs_top8=float(torch.quantile(dtop.flatten().float(), 0.99)),
        max_abs_top1=float(dtop[:, 0].max()),
        argmax_agree=int((arg16 == top32.indices[:, 0]).sum()),
        min_top1_top2_gap_fp32=float((top32.values[:, 0] - top32.values[:, 1]).min()),
    )


def record(lp32: torch.Tensor, lp16: torch.Tensor, ids: list[int], positions: list[int]) -> list[dict]:
    out = []
    for p in positions:
        t32 = torch.topk(lp32[p], TOP_K)
        t16 = torch.topk(lp16[p], TOP_K)
        nxt = ids[p + 1] if p + 1 < len(ids) else None
        out.append(dict(
            position=p,
            top_ids_fp32=t32.indices.tolist(), top_logprobs_fp32=[round(x, 6) for x in t32.values.tolist()],
            logprobs_bf16_at_top_ids_fp32=[round(x, 6) for x in lp16[p, t32.indices].tolist()],
            top_ids_bf16=t16.indices.tolist(), top_logprobs_bf16=[round(x, 6) for x in t16.values.tolist()],
            next_id=nxt,
            next_logprob_fp32=None if nxt is None else round(float(lp32[p, nxt]), 6),
            next_logprob_bf16=None if nxt is None else round(float(lp16[p, nxt]), 6),
        ))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--ckpt', required=True, help='directory to write the HF checkpoint into')
    ap.add_argument('--out', required=True, help='reference JSON to write')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--text-layers', type=int, default=2)
    ap.add_argument('--image-size', type=int, default=1540)
    ap.add_argument('--text-len', type=int, default=32, help='text prompt length (BOS + random ids)')
    ap.add_argument('--image-text-len', type=int, default=8, help='text tokens after the image')
    ap.add_argument('--no-save', action='store_true', help='skip writing the checkpoint')
    args = ap.parse_args()
    t_start = time.time()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_bf16_reduced_precision_reduction = True  # the default
    report = dict(
        tool='tools/reference/full_width.py', command='python3 ' + ' '.join(sys.argv),
        date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        card=torch.cuda.get_device_name(0), torch=torch.__version__, transformers=transformers.__version__,
        numpy=np.__version__, seed=args.seed, attention='sdpa',
        model=dict(text=dict(hidden=5120, inter=32768, layers=args.text_layers, heads=32, kv_heads=8, head_dim=128,
                             vocab=131072, rope_theta=1e9, eps=1e-5),
                   vision=dict(hidden=1024, inter=4096, layers=24, heads=16, patch=14, image_size=1540, rope_theta=1e4,
                               act='silu'),
                   weights='tramontane dummy generator (src/model/dummyWeights.ts), canonical names, bf16'),
        pixels=dict(name=PIXEL_NAME, scale=PIXEL_SCALE, offset=PIXEL_OFFSET, layout='[3, H, W] bf16-rounded',
                    height=args.image_size, width=args.image_size),
        seconds={},
    )
    cfg = make_config(args.text_layers)
    t0 = time.time()
    with torch.device('cuda'):
        model = Mistral3ForConditionalGeneration._from_config(cfg, dtype=torch.float32, attn_implementation='sdpa')
    model.eval()
    names = {}
    with torch.no_grad():
        for hf_name, p in model.named_parameters():
            c = canonical(hf_name)
            assert c not in names, c
            names[c] = hf_name
            fill_tensor_torch(p, args.seed, c)
    report['seconds']['build_and_fill'] = round(time.time() - t0, 1)
    params = dict(model.named_parameters())
    report['n_params'] = sum(p.numel() for p in params.values())
    log(f'built {report["n_params"] / 1e9:.2f}B params in {time.time() - t0:.1f} s')
    # the torch generator agrees with numpy's (and so with TypeScript's: see dummyWeights.test.ts)
    checks = {}
    for c in ['tok_embeddings', 'norm', 'output', 'layers.0.attention.wq', 'vision.patch_conv',
              'vision.layers.23.feed_forward.w2', 'projector.patch_merger']:
        p = params[names[c]]
        key, scale, offset = fill_spec(args.seed, c, tuple(p.shape))
        start = 1000
        want = bf16_bits_np(values_np(key, scale, offset, start, 8)).tolist()
        got = p.data.view(-1)[start:start + 8].to(torch.bfloat16).view(torch.int16).cpu().numpy().astype(np.uint16).tolist()
        checks[c] = dict(shape=list(p.shape), key=key, scale=float(scale), offset=float(offset), start=start,
                         bf16_bits=got, numpy_agrees=got == want)
    report['generator_check'] = checks
    if not all(v['numpy_agrees'] for v in checks.values()):
        log('WARNING: torch generator disagrees with numpy', checks)
    report['weight_fingerprint'] = {
        c: [float(params[h].data.sum(dtype=torch.float64)), float(params[h].data.abs().sum(dtype=torch.float64))]
        for c, h in sorted(names.items())
    }

    rng = np.random.default_rng(args.seed)
    text_ids = [BOS] + [int(x) for x in rng.integers(1000, 131072, args.text_len - 1)]
    img_ids = image_tokens(args.image_size, args.image_size) + [int(x) for x in rng.integers(1000, 131072, args.image_text_len)]
    pixels = make_pixels(args.seed, args.image_size)
    report['pixels']['first_bf16_bits'] = pixels.view(-1)[:8].to(torch.bfloat16).view(torch.int16).cpu().numpy().astype(np.uint16).tolist()
    report['pixels']['sum'] = float(pixels.sum(dtype=torch.float64))
    prompts = [dict(name='text', token_ids=text_ids, pixels=None),
               dict(name='image-1540', token_ids=img_ids, pixels=pixels)]

    lp32 = {}
    t0 = time.time()
    for pr in prompts:
        lp32[pr['name']] = all_logprobs(model, pr['token_ids'], pr['pixels'], torch.float32)
    report['seconds']['forward_fp32'] = round(time.time() - t0, 1)
    to_bf16_keeping_buffers(model)
    t0 = time.time()
    report['prompts'] = []
    for pr in prompts:
        ids = pr['token_ids']
        lp16 = all_logprobs(model, ids, pr['pixels'], torch.bfloat16)
        a = lp32[pr['name']]
        if pr['pixels'] is None:
            positions = list(range(len(ids)))
        else:
            n_img = len(ids) - args.image_text_len
            positions = sorted(set(list(range(0, n_img, 311)) + list(range(n_img - 3, len(ids)))))
        report['prompts'].append(dict(
            name=pr['name'], token_ids=ids, image=None if pr['pixels'] is None else [args.image_size, args.image_size],
            bf16_vs_fp32=compare(a, lp16), recorded=record(a, lp16, ids, positions),
        ))
        log(f'{pr["name"]}: {len(ids)} tokens, bf16 vs fp32 {report["prompts"][-1]["bf16_vs_fp32"]}')
    report['seconds']['forward_bf16'] = round(time.time() - t0, 1)
    del lp32

    if not args.no_save:
        t0 = time.time()
        os.makedirs(args.ckpt, exist_ok=True)
        model.save_pretrained(args.ckpt)
        from safetensors import safe_open
        tensors = {}
        for f in sorted(os.listdir(args.ckpt)):
            if f.endswith('.safetensors'):
                with safe_open(os.path.join(args.ckpt, f), framework='pt') as st:
                    for k in st.keys():
                        sl = st.get_slice(k)
                        tensors[k] = [sl.get_dtype(), list(sl.get_shape())]
        report['checkpoint'] = dict(files=sorted(os.listdir(args.ckpt)), tensors=tensors,
                                    bytes=sum(os.path.getsize(os.path.join(args.ckpt, f)) for f in os.listdir(args.ckpt)))
        report['seconds']['save'] = round(time.time() - t0, 1)
        log(f'saved {report["checkpoint"]["bytes"] / 1e9:.2f} GB to {args.ckpt} in {time.time() - t0:.1f} s')
    report['seconds']['total'] = round(time.time() - t_start, 1)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(report, f, indent=1)
        f.write('\n')
    log(f'wrote {args.out}')


if __name__ == '__main__':
    main()
