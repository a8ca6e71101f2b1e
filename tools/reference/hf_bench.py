"""transformers baseline for tramontane's full-size benchmarks (issue 5), on the GPU machine.

Mistral Small 3.1's text decoder as `MistralForCausalLM` with the real dimensions (docs/model.md#dimensions)
and random bf16 weights made directly on the GPU (no checkpoint: it would be 48 GB), sdpa
attention; the vision encoder + projector as `Mistral3ForConditionalGeneration` with the real
vision and projector dimensions (its text part cut to 1 layer and a small vocabulary: unused).

Parts (--parts, comma-separated; default all):
  decode   batch-1 `generate` of --output-len tokens after --input-len prompt tokens with the
           DynamicCache: end-to-end latencies (vLLM's benchmark_latency fields), and decode tok/s
           = (output_len - 1) / (latency(output_len) - latency(1 new token)) from medians.
  prefill  one forward over a --prefill-len prompt (logits of the last token only, KV cache
           filled): tok/s and the achieved TFLOP/s.
  vision   encode one --image-size square image (1540 -> 12100 patches) through the Pixtral
           encoder and the projector (`get_image_features`).
  long     a --long-len prompt (131000) prefilled in --long-chunk (8192) pieces into a DynamicCache
           (one forward per piece, logits of its last token only), then --long-decode (32)
           greedy steps at that context: prefill seconds and decode ms per step (median).
  static   as decode, with cache_implementation="static", which makes `generate` torch.compile
           the decoding step; the first call's compile is bounded by --compile-budget-s (and
           --deadline); when it fails or runs out of time the reason is recorded.

Every timing: --warmup untimed runs, then --iters timed runs between CUDA events; medians.
Writes one JSON (--out, and stdout), rewritten after each part so a killed run keeps what it had.

    python3 tools/reference/hf_bench.py --out bench/results/<card>-<date>-transformers.json
    python3 tools/reference/hf_bench.py --parts decode,prefill --layers 2 --iters 1   # smoke
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import signal
import statistics
import sys
import time
import traceback

import torch
import transformers

TEXT = dict(hidden=5120, inter=32768, layers=40, heads=32, kv_heads=8, head_dim=128, vocab=131072,
            theta=1e9, max_pos=131072, eps=1e-5)
VISION = dict(hidden=1024, inter=4096, layers=24, heads=16, patch=14, image_size=1540, theta=1e4)
PERCENTILES = [10, 25, 50, 75, 90, 99]


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def percentile(xs: list[float], p: float) -> float:
    s = sorted(xs)
    k = (len(s) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def latency_fields(lat_s: list[float]) -> dict:
    """vLLM benchmark_latency.py's JSON fields (seconds)."""
    return dict(avg_latency=sum(lat_s) / len(lat_s), latencies=lat_s,
                percentiles={str(p): percentile(lat_s, p) for p in PERCENTILES})


def timed(fn, warmup: int, iters: int) -> list[float]:
    """Seconds per call, between CUDA events, after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    out = []
    for _ in range(iters):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        out.append(start.elapsed_time(end) / 1000.0)
    return out


def text_config(layers: int):
    from transformers import MistralConfig
    t = TEXT
    return MistralConfig(
        vocab_size=t['vocab'], hidden_size=t['hidden'], intermediate_size=t['inter'], num_hidden_layers=layers,
        num_attention_heads=t['heads'], num_key_value_heads=t['kv_heads'], head_dim=t['head_dim'],
        hidden_act='silu', max_position_embeddings=t['max_pos'], rms_norm_eps=t['eps'],
        rope_parameters={'rope_type': 'default', 'rope_theta': t['theta']}, sliding_window=None,
        tie_word_embeddings=False, bos_token_id=1, eos_token_id=2,
    )


def build_text_model(layers: int):
    from transformers import MistralForCausalLM
    cfg = text_config(layers)
    with torch.device('cuda'):
        model = MistralForCausalLM._from_config(cfg, dtype=torch.bfloat16, attn_implementation='sdpa')
    model.eval()
    model.generation_config.eos_token_id = None  # random weights: never stop early
    model.generation_config.pad_token_id = 11
    assert model.config.head_dim == TEXT['head_dim']
    return model


def random_ids(n: int, seed: int) -> torch.Tensor:
    g = torch.Generator(device='cpu').manual_seed(seed)
    return torch.randint(1000, TEXT['vocab'], (1, n), generator=g).cuda()


@torch.no_grad()
def bench_generate(model, args, cache_implementation: str | None, budget_s: float | None = None) -> dict:
    ids = random_ids(args.input_len, 1)
    mask = torch.ones_like(ids)
    extra = {} if cache_implementation is None else dict(cache_implementation=cache_implementation)
    produced = {}

    def gen(n):
        def run():
            out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=n, do_sample=False, **extra)
            produced[n] = out.shape[1] - ids.shape[1]
        return run

    res = dict(batch_size=1, input_len=args.input_len, output_len=args.output_len,
               cache=cache_implementation or 'dynamic')
    if budget_s is not None:  # the first call compiles
        t0 = time.time()
        gen(args.output_len)()
        torch.cuda.synchronize()
        res['first_call_s'] = time.time() - t0
        try:
            res['dynamo_unique_graphs'] = int(torch._dynamo.utils.counters['stats']['unique_graphs'])
        except Exception:  # noqa: BLE001
            pass
        log(f'  first {res["cache"]} generate (compile): {res["first_call_s"]:.1f} s')
    lat = timed(gen(args.output_len), args.warmup, args.iters)
    lat1 = timed(gen(1), args.warmup, args.iters)
    if produced.get(args.output_len) != args.output_len:
        raise RuntimeError(f'generate produced {produced.get(args.output_len)} tokens, not {args.output_len}')
    res.update(latency_fields(lat))
    res['prefill_plus_one_token'] = latency_fields(lat1)
    med, med1 = statistics.median(lat), statistics.median(lat1)
    res['decode_tok_s'] = (args.output_len - 1) / (med - med1)
    res['output_tok_s'] = args.output_len / med
    res['decode_ms_per_token'] = 1000 * (med - med1) / (args.output_len - 1)
    log(f'  {res["cache"]}: {res["decode_tok_s"]:.2f} decode tok/s, e2e median {med:.3f} s')
    return res


def prefill_flops(tokens: int, layers: int) -> float:
    t = TEXT
    per_layer = (t['heads'] * t['head_dim'] * t['hidden'] * 2 + t['kv_heads'] * t['head_dim'] * t['hidden'] * 2
                 + 3 * t['inter'] * t['hidden'])
    linear = 2 * per_layer * layers * tokens + 2 * t['hidden'] * t['vocab']  # lm_head: last token
    attention = 2 * 2 * (tokens * (tokens + 1) / 2) * t['heads'] * t['head_dim'] * layers  # causal QK^T, PV
    return linear + attention


@torch.no_grad()
def bench_prefill(model, args) -> dict:
    ids = random_ids(args.prefill_len, 2)

    def run():
        model(input_ids=ids, use_cache=True, logits_to_keep=1)

    lat = timed(run, args.warmup, max(args.iters, 3))
    med = statistics.median(lat)
    flops = prefill_flops(args.prefill_len, args.layers)
    res = dict(batch_size=1, input_len=args.prefill_len, **latency_fields(lat))
    res.update(prefill_tok_s=args.prefill_len / med, tflop_per_prompt=flops / 1e12, achieved_tflop_s=flops / med / 1e12)
    log(f'  prefill {args.prefill_len}: {res["prefill_tok_s"]:.0f} tok/s, {res["achieved_tflop_s"]:.0f} TFLOP/s')
    return res


@torch.no_grad()
def bench_long(model, args) -> dict:
    from transformers import DynamicCache
    ids = random_ids(args.long_len, 3)
    cache = DynamicCache()
    torch.cuda.synchronize()
    t0 = time.time()
    logits = None
    for start in range(0, args.long_len, args.long_chunk):
        piece = ids[:, start:start + args.long_chunk]
        logits = model(input_ids=piece, past_key_values=cache, use_cache=True, logits_to_keep=1).logits
    torch.cuda.synchronize()
    prefill_s = time.time() - t0
    log(f'  long prefill {args.long_len}: {prefill_s:.1f} s ({args.long_len / prefill_s:.0f} tok/s)')
    step_s = []
    nxt = logits[:, -1:].argmax(-1)
    for _ in range(args.long_decode):
        start_ev, end_ev = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start_ev.record()
        logits = model(input_ids=nxt, past_key_values=cache, use_cache=True, logits_to_keep=1).logits
        nxt = logits[:, -1:].argmax(-1)
        end_ev.record()
        end_ev.synchronize()
        step_s.append(start_ev.elapsed_time(end_ev) / 1000.0)
    med = statistics.median(step_s)
    res = dict(batch_size=1, input_len=args.long_len, chunk=args.long_chunk, cache='dynamic', prefill_s=prefill_s,
               prefill_tok_s=args.long_len / prefill_s, decode_steps=len(step_s), decode_ms_per_token=1000 * med,
               decode_tok_s=1 / med, prefill_tflop_s=prefill_flops(args.long_len, args.layers) / prefill_s / 1e12)
    log(f'  long decode at {args.long_len}: {1000 * med:.1f} ms a step, {1 / med:.1f} tok/s')
    return res


@torch.no_grad()
def bench_vision(args) -> dict:
    from transformers import Mistral3Config, Mistral3ForConditionalGeneration, PixtralVisionConfig
    v = VISION
    vision = PixtralVisionConfig(
        hidden_size=v['hidden'], intermediate_size=v['inter'], num_hidden_layers=v['layers'],
        num_attention_heads=v['heads'], num_channels=3, image_size=v['image_size'], patch_size=v['patch'],
        hidden_act='silu', rope_parameters={'rope_type': 'default', 'rope_theta': v['theta']},
        head_dim=v['hidden'] // v['heads'],
    )
    text = text_config(1)
    text.vocab_size = 1024  # unused here
    cfg = Mistral3Config(vision_config=vision, text_config=text, image_token_index=10, projector_hidden_act='gelu',
                         vision_feature_layer=-1, multimodal_projector_bias=False, spatial_merge_size=2)
    assert cfg.vision_config.hidden_act == 'silu'
    with torch.device('cuda'):
        model = Mistral3ForConditionalGeneration._from_config(cfg, dtype=torch.bfloat16, attn_implementation='sdpa')
    model.eval()
    side = args.image_size
    pv = torch.randn(1, 3, side, side, device='cuda', dtype=torch.bfloat16)
    sizes = torch.tensor([[side, side]], device='cuda')
    inner = model.model

    def via_features():
        return inner.get_image_features(pixel_values=pv, image_sizes=sizes)

    def via_modules():  # the same two modules, called directly
        enc = inner.vision_tower(pv, image_sizes=sizes).last_hidden_state
        return inner.multi_modal_projector(enc.squeeze(0), sizes)

    path = 'get_image_features'
    try:
        feats = via_features()
        run = via_features
    except Exception as e:  # noqa: BLE001
        log(f'  get_image_features failed ({e!r}); calling vision_tower + multi_modal_projector')
        path = f'vision_tower + multi_modal_projector (get_image_features: {type(e).__name__}: {e})'
        feats = via_modules()
        run = via_modules
    first = feats
    for _ in range(3):  # unwrap ModelOutput / tuples down to a tensor
        if hasattr(first, 'shape'):
            break
        if hasattr(first, 'pooler_output') and first.pooler_output is not None:
            first = first.pooler_output
        elif hasattr(first, 'last_hidden_state'):
            first = first.last_hidden_state
        elif isinstance(first, (list, tuple)) and first:
            first = first[0]
        else:
            break
    out_shape = list(first.shape) if hasattr(first, 'shape') else repr(type(first))
    lat = timed(run, args.warmup, max(args.iters, 3))
    patches = (side // v['patch']) ** 2
    res = dict(image_size=side, patches=patches, merged_tokens=patches // 4, features_shape=out_shape, path=path,
               **latency_fields(lat))
    res['encode_ms'] = 1000 * statistics.median(lat)
    log(f'  vision {side}x{side} ({patches} patches): {res["encode_ms"]:.1f} ms, features {out_shape}')
    del model
    torch.cuda.empty_cache()
    return res


class alarm:
    """Raises TimeoutError in the main thread after `seconds`."""

    def __init__(self, seconds: float):
        self.seconds = max(1, int(seconds))

    def _fire(self, *_):
        raise TimeoutError(f'did not finish within the {self.seconds} s budget')

    def __enter__(self):
        self.prev = signal.signal(signal.SIGALRM, self._fire)
        signal.alarm(self.seconds)

    def __exit__(self, *exc):
        signal.alarm(0)
        signal.signal(signal.SIGALRM, self.prev)
        return False


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--parts', default='decode,prefill,vision,static')
    ap.add_argument('--layers', type=int, default=TEXT['layers'], help='text layers (40 = the real model)')
    ap.add_argument('--input-len', type=int, default=128)
    ap.add_argument('--output-len', type=int, default=128)
    ap.add_argument('--prefill-len', type=int, default=4096)
    ap.add_argument('--long-len', type=int, default=131000)
    ap.add_argument('--long-chunk', type=int, default=8192)
    ap.add_argument('--long-decode', type=int, default=32)
    ap.add_argument('--image-size', type=int, default=VISION['image_size'])
    ap.add_argument('--warmup', type=int, default=1)
    ap.add_argument('--iters', type=int, default=3)
    ap.add_argument('--compile-budget-s', type=float, default=150.0)
    ap.add_argument('--deadline', type=float, default=None, help='unix time by which the run must end')
    ap.add_argument('--out', default=None)
    args = ap.parse_args()
    parts = [p for p in args.parts.split(',') if p]
    for p in parts:
        if p not in ('decode', 'prefill', 'vision', 'static', 'long'):
            ap.error(f'unknown part {p!r}')
    report = dict(
        tool='tools/reference/hf_bench.py', command='python3 ' + ' '.join(sys.argv),
        date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        card=torch.cuda.get_device_name(0), torch=torch.__version__, transformers=transformers.__version__,
        cuda=torch.version.cuda, python=sys.version.split()[0],
        model=dict(name='Mistral Small 3.1 (24B, 2503) dimensions, random bf16 weights', text=dict(TEXT, layers=args.layers),
                   vision=VISION, attention='sdpa', dtype='bfloat16'),
        results={}, errors={},
    )

    def save():
        text = json.dumps(report, indent=1)
        if args.out:
            os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
            with open(args.out, 'w') as f:
                f.write(text + '\n')

    def attempt(name, fn):
        t0 = time.time()
        try:
            report['results'][name] = fn()
        except BaseException as e:  # noqa: BLE001 - recorded, the other parts still run
            report['errors'][name] = f'{type(e).__name__}: {e}'
            log(f'  {name} failed:')
            traceback.print_exc()
            if isinstance(e, KeyboardInterrupt):
                raise
        report.setdefault('part_seconds', {})[name] = round(time.time() - t0, 1)
        torch.cuda.empty_cache()
        save()

    if 'vision' in parts:
        attempt('vision', lambda: bench_vision(args))
    text_parts = [p for p in parts if p != 'vision']
    if text_parts:
        t0 = time.time()
        try:
            model = build_text_model(args.layers)
        except BaseException as e:
            report['errors']['build_text_model'] = f'{type(e).__name__}: {e}'
            save()
            raise
        torch.cuda.synchronize()
        n_params = sum(p.numel() for p in model.parameters())
        report['model'].update(text_params=n_params, weight_bytes=2 * n_params, build_s=round(time.time() - t0, 1))
        log(f'text model: {n_params / 1e9:.2f}B params on {report["card"]} in {time.time() - t0:.1f} s')
        if 'decode' in parts:
            attempt('decode', lambda: bench_generate(model, args, None))
        if 'prefill' in parts:
            attempt('prefill', lambda: bench_prefill(model, args))
        if 'long' in parts:
            left = None if args.deadline is None else args.deadline - time.time() - 5
            if left is not None and left < 60:
                report['errors']['long'] = f'skipped: only {left:.0f} s left before the deadline'
            else:
                def long():
                    if left is None:
                        return bench_long(model, args)
                    with alarm(left):
                        return bench_long(model, args)
                attempt('long', long)
        if 'static' in parts:
            budget = args.compile_budget_s
            if args.deadline is not None:
                budget = min(budget, args.deadline - time.time() - 20)
            if budget < 20:
                report['errors']['static'] = f'skipped: only {budget:.0f} s left before the deadline'
            else:
                report['static_compile_budget_s'] = round(budget)

                def static():
                    with alarm(budget):  # compile and timing together
                        return bench_generate(model, args, 'static', budget_s=budget)
                attempt('static', static)
    report['peak_gpu_bytes'] = torch.cuda.max_memory_allocated()
    save()
    print(json.dumps(report, indent=1))


if __name__ == '__main__':
    main()
