#!/usr/bin/env python3
"""Writes a full-size Mistral Small 3.1 checkpoint with random bf16 weights, as a new user's
download would look, for loading benchmarks (issue 12), and times transformers loading it.

  write:   Mistral3ForConditionalGeneration with the real dimensions, built on the GPU,
           save_pretrained(out, max_shard_size="5GB"): 10 shards + index, config.json (v5 form,
           older tensor names), ~48 GB. --tekken copies a tekken.json in beside them.
  mistral: --mistral-out DIR also writes the Mistral layout from those files: params.json and
           one consolidated.safetensors with Mistral names, q/k rows permuted back to
           interleaved-pair RoPE (the inverse of SPEC.md section 2), streamed tensor by tensor.
  time:    --time-hf: transformers from_pretrained(dir, dtype=bfloat16, device_map="cuda"),
           synchronised, printed as JSON on stdout (one line, "hf_from_pretrained_seconds").

Run on the GPU machine (torch 2.11, transformers 5.17), into /dev/shm (page cache: every byte
in memory) as /work/shared/device/README.md says.
"""
import argparse
import json
import os
import struct
import sys
import time

import numpy as np

TEXT = dict(hidden=5120, inter=32768, layers=40, heads=32, kv_heads=8, head_dim=128, vocab=131072,
            theta=1e9, max_pos=131072, eps=1e-5)
VISION = dict(hidden=1024, inter=4096, layers=24, heads=16, patch=14, image_size=1540, theta=1e4)


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def make_config():
    from transformers import Mistral3Config, MistralConfig, PixtralVisionConfig
    t, v = TEXT, VISION
    text = MistralConfig(
        vocab_size=t['vocab'], hidden_size=t['hidden'], intermediate_size=t['inter'], num_hidden_layers=t['layers'],
        num_attention_heads=t['heads'], num_key_value_heads=t['kv_heads'], head_dim=t['head_dim'],
        hidden_act='silu', max_position_embeddings=t['max_pos'], rms_norm_eps=t['eps'],
        rope_parameters={'rope_type': 'default', 'rope_theta': t['theta']}, sliding_window=None,
        tie_word_embeddings=False, bos_token_id=1, eos_token_id=2,
    )
    vision = PixtralVisionConfig(
        hidden_size=v['hidden'], intermediate_size=v['inter'], num_hidden_layers=v['layers'],
        num_attention_heads=v['heads'], num_channels=3, image_size=v['image_size'], patch_size=v['patch'],
        hidden_act='silu', rope_parameters={'rope_type': 'default', 'rope_theta': v['theta']},
        head_dim=v['hidden'] // v['heads'],
    )
    cfg = Mistral3Config(vision_config=vision, text_config=text, image_token_index=10, projector_hidden_act='gelu',
                         vision_feature_layer=-1, multimodal_projector_bias=False, spatial_merge_size=2,
                         tie_word_embeddings=False)
    assert cfg.vision_config.hidden_act == 'silu'
    return cfg


def write_hf(out: str, tekken: str | None) -> float:
    import torch
    from transformers import Mistral3ForConditionalGeneration
    t0 = time.perf_counter()
    with torch.no_grad(), torch.device('cuda'):
        model = Mistral3ForConditionalGeneration._from_config(make_config(), dtype=torch.bfloat16)
        model.save_pretrained(out, max_shard_size='5GB')
    del model
    torch.cuda.empty_cache()
    if tekken:
        with open(tekken, 'rb') as src, open(os.path.join(out, 'tekken.json'), 'wb') as dst:
            dst.write(src.read())
    return time.perf_counter() - t0


def hf_to_mistral_name(name: str) -> str | None:
    """The older HF names save_pretrained writes -> Mistral consolidated names."""
    parts = {'input_layernorm': 'attention_norm', 'post_attention_layernorm': 'ffn_norm',
             'self_attn.q_proj': 'attention.wq', 'self_attn.k_proj': 'attention.wk', 'self_attn.v_proj': 'attention.wv',
             'self_attn.o_proj': 'attention.wo', 'mlp.gate_proj': 'feed_forward.w1', 'mlp.down_proj': 'feed_forward.w2',
             'mlp.up_proj': 'feed_forward.w3'}
    vparts = {'attention_norm': 'attention_norm', 'ffn_norm': 'ffn_norm', 'attention.q_proj': 'attention.wq',
              'attention.k_proj': 'attention.wk', 'attention.v_proj': 'attention.wv', 'attention.o_proj': 'attention.wo',
              'feed_forward.gate_proj': 'feed_forward.w1', 'feed_forward.down_proj': 'feed_forward.w2',
              'feed_forward.up_proj': 'feed_forward.w3'}
    top = {'language_model.model.embed_tokens.weight': 'tok_embeddings.weight', 'language_model.model.norm.weight': 'norm.weight',
           'language_model.lm_head.weight': 'output.weight', 'vision_tower.patch_conv.weight': 'vision_encoder.patch_conv.weight',
           'vision_tower.ln_pre.weight': 'vision_encoder.ln_pre.weight', 'multi_modal_projector.norm.weight': 'pre_mm_projector_norm.weight',
           'multi_modal_projector.patch_merger.merging_layer.weight': 'patch_merger.merging_layer.weight',
           'multi_modal_projector.linear_1.weight': 'vision_language_adapter.w_in.weight',
           'multi_modal_projector.linear_2.weight': 'vision_language_adapter.w_out.weight'}
    for old, new in (('model.language_model.', 'language_model.model.'), ('model.vision_tower.', 'vision_tower.'),
                     ('model.multi_modal_projector.', 'multi_modal_projector.'), ('lm_head.', 'language_model.lm_head.')):
        if name.startswith(old):
            name = new + name[len(old):]
    if name in top:
        return top[name]
    p = name.split('.')
    if name.startswith('language_model.model.layers.'):
        rest = '.'.join(p[4:-1])
        return f'layers.{p[3]}.{parts[rest]}.weight' if rest in parts else None
    if name.startswith('vision_tower.transformer.layers.'):
        rest = '.'.join(p[4:-1])
        return f'vision_encoder.transformer.layers.{p[3]}.{vparts[rest]}.weight' if rest in vparts else None
    return None


def write_mistral(hf_dir: str, out: str, params: str, tekken: str | None) -> float:
    """Streams the HF shards into one consolidated.safetensors with Mistral names."""
    t0 = time.perf_counter()
    os.makedirs(out, exist_ok=True)
    index = json.load(open(os.path.join(hf_dir, 'model.safetensors.index.json')))['weight_map']
    headers = {}
    for shard in sorted(set(index.values())):
        with open(os.path.join(hf_dir, shard), 'rb') as f:
            n = struct.unpack('<Q', f.read(8))[0]
            h = json.loads(f.read(n))
            h.pop('__metadata__', None)
            headers[shard] = (8 + n, h)
    entries = []
    offset = 0
    for name in sorted(index):
        shard = index[name]
        start, h = headers[shard]
        e = h[name]
        m = hf_to_mistral_name(name)
        assert m is not None, name
        size = e['data_offsets'][1] - e['data_offsets'][0]
        heads = None
        if m.endswith(('attention.wq.weight', 'attention.wk.weight')):
            vision = m.startswith('vision_encoder.')
            heads = VISION['heads'] if vision else (TEXT['heads'] if m.endswith('wq.weight') else TEXT['kv_heads'])
        entries.append((m, shard, start + e['data_offsets'][0], size, e['dtype'], e['shape'], heads, offset))
        offset += size
    header = {'__metadata__': {'format': 'pt'}}
    for m, _, _, size, dtype, shape, _, off in entries:
        header[m] = {'dtype': dtype, 'shape': shape, 'data_offsets': [off, off + size]}
    hjson = json.dumps(header).encode()
    hjson += b' ' * ((8 - len(hjson) % 8) % 8)
    with open(os.path.join(out, 'consolidated.safetensors'), 'wb') as dst:
        dst.write(struct.pack('<Q', len(hjson)) + hjson)
        for m, shard, src_off, size, dtype, shape, heads, _ in entries:
            with open(os.path.join(hf_dir, shard), 'rb') as src:
                src.seek(src_off)
                data = src.read(size)
            if heads is not None:
                # HF rotate-half rows -> Mistral interleaved pairs: MISTRAL[h*hd + 2i + s] = HF[h*hd + s*hd/2 + i]
                rows = shape[0]
                hd = rows // heads
                a = np.frombuffer(data, dtype=np.int16).reshape(heads, 2, hd // 2, -1)
                data = np.ascontiguousarray(a.transpose(0, 2, 1, 3)).tobytes()
            dst.write(data)
    with open(params, 'rb') as src, open(os.path.join(out, 'params.json'), 'wb') as dst:
        dst.write(src.read())
    if tekken:
        with open(tekken, 'rb') as src, open(os.path.join(out, 'tekken.json'), 'wb') as dst:
            dst.write(src.read())
    return time.perf_counter() - t0


def time_hf(path: str) -> float:
    import torch
    from transformers import Mistral3ForConditionalGeneration
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    model = Mistral3ForConditionalGeneration.from_pretrained(path, dtype=torch.bfloat16, device_map='cuda')
    torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    n = sum(p.numel() for p in model.parameters())
    log(f'transformers from_pretrained: {seconds:.2f} s, {n / 1e9:.2f} B parameters')
    del model
    torch.cuda.empty_cache()
    return seconds


def main():
    import torch
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', required=True, help='HF checkpoint directory to write (or time with --skip-write)')
    ap.add_argument('--tekken', help='a tekken.json to copy into the checkpoint(s)')
    ap.add_argument('--skip-write', action='store_true')
    ap.add_argument('--time-hf', action='store_true')
    ap.add_argument('--mistral-out', help='also write the Mistral layout here')
    ap.add_argument('--params', help='params.json for --mistral-out (assets/configs/mistral-small-3.1-24b/params.json)')
    a = ap.parse_args()
    res = {'torch': torch.__version__, 'device': torch.cuda.get_device_name(0)}
    import transformers
    res['transformers'] = transformers.__version__
    if not a.skip_write:
        res['hf_write_seconds'] = write_hf(a.out, a.tekken)
        log(f'wrote {a.out} in {res["hf_write_seconds"]:.1f} s')
    files = [f for f in os.listdir(a.out) if f.endswith('.safetensors')]
    res['hf_files'] = len(files)
    res['hf_bytes'] = sum(os.path.getsize(os.path.join(a.out, f)) for f in files)
    if a.time_hf:
        res['hf_from_pretrained_seconds'] = time_hf(a.out)
    if a.mistral_out:
        res['mistral_write_seconds'] = write_mistral(a.out, a.mistral_out, a.params, a.tekken)
        log(f'wrote {a.mistral_out} in {res["mistral_write_seconds"]:.1f} s')
    print(json.dumps(res))


if __name__ == '__main__':
    main()
