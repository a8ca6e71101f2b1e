"""tramontane's seeded dummy-weight generator (`--load-format dummy`) in numpy and torch.

The definition lives in src/model/dummyWeights.ts (its header comment); this is the same
function, bit for bit:

    mix32(x)        lowbias32: x ^= x>>16; x *= 0x7feb352d; x ^= x>>15; x *= 0x846ca68b; x ^= x>>16
    key(seed, name) = mix32(fnv1a32(utf8(name)) ^ mix32(seed))
    bits(key, i)    = mix32(mix32(i ^ key) + key)                      (uint32, wrapping)
    s               = float32(int(bits >> 8) - 2^23) * 2^-23            in [-1, 1)
    value           = float32(offset + float32(scale * s)), then bf16 round-to-nearest-even

scale/offset: 1-D tensors offset 1 scale float32(0.2); tok_embeddings scale 1; output
float32(8 * sqrt(3 / fan_in)); every other matrix float32(sqrt(3 / fan_in)).

`python3 tools/reference/dummy_weights.py > test/fixtures/full-width/generator_check.json` writes
check vectors (bf16 bit patterns at the start, at element 1000 and at the end of a few full-size
tensors) that test/model/dummyWeights.test.ts asserts; numpy is enough (no GPU, no torch).
"""

from __future__ import annotations

import math

import numpy as np

M32 = 0xFFFFFFFF


def mix32_int(x: int) -> int:
    x &= M32
    x ^= x >> 16
    x = (x * 0x7FEB352D) & M32
    x ^= x >> 15
    x = (x * 0x846CA68B) & M32
    x ^= x >> 16
    return x


def fnv1a32(text: str) -> int:
    h = 0x811C9DC5
    for b in text.encode('utf-8'):
        h ^= b
        h = (h * 0x01000193) & M32
    return h


def tensor_key(seed: int, name: str) -> int:
    return mix32_int(fnv1a32(name) ^ mix32_int(seed))


def fill_spec(seed: int, name: str, shape: tuple[int, ...]) -> tuple[int, np.float32, np.float32]:
    """(key, scale, offset) of one canonical tensor."""
    key = tensor_key(seed, name)
    if len(shape) == 1:
        return key, np.float32(0.2), np.float32(1.0)
    if name == 'tok_embeddings':
        return key, np.float32(1.0), np.float32(0.0)
    fan_in = int(np.prod(shape[1:]))
    gain = 8.0 if name == 'output' else 1.0
    return key, np.float32(gain * math.sqrt(3.0 / fan_in)), np.float32(0.0)


# ---- numpy (uint32 arithmetic wraps) ----

def _mix32_np(x: np.ndarray) -> np.ndarray:
    x = x ^ (x >> np.uint32(16))
    x = x * np.uint32(0x7FEB352D)
    x = x ^ (x >> np.uint32(15))
    x = x * np.uint32(0x846CA68B)
    x = x ^ (x >> np.uint32(16))
    return x


def values_np(key: int, scale: np.float32, offset: np.float32, start: int, count: int) -> np.ndarray:
    """float32 values of elements [start, start + count)."""
    with np.errstate(over='ignore'):
        i = np.arange(start, start + count, dtype=np.uint64).astype(np.uint32)
        k = np.uint32(key)
        bits = _mix32_np(_mix32_np(i ^ k) + k)
    s = ((bits >> np.uint32(8)).astype(np.int32) - np.int32(8388608)).astype(np.float32) * np.float32(2.0 ** -23)
    v = (np.float32(scale) * s).astype(np.float32)
    return (np.float32(offset) + v).astype(np.float32)


def bf16_bits_np(values: np.ndarray) -> np.ndarray:
    u = values.astype(np.float32).view(np.uint32).astype(np.uint64)
    return (((u + 0x7FFF + ((u >> 16) & 1)) >> 16) & 0xFFFF).astype(np.uint16)


# ---- torch (int64 tensors holding uint32 values; any device) ----

def _mul32_t(x, c: int):
    lo, hi = c & 0xFFFF, c >> 16
    return (x * lo + (((x * hi) & 0xFFFF) << 16)) & M32


def _mix32_t(x):
    x = x ^ (x >> 16)
    x = _mul32_t(x, 0x7FEB352D)
    x = x ^ (x >> 15)
    x = _mul32_t(x, 0x846CA68B)
    x = x ^ (x >> 16)
    return x


def values_torch(key: int, scale: float, offset: float, start: int, count: int, device):
    """float32 torch tensor of elements [start, start + count)."""
    import torch
    i = torch.arange(start, start + count, dtype=torch.int64, device=device)
    bits = _mix32_t((_mix32_t(i ^ key) + key) & M32)
    s = ((bits >> 8) - 8388608).to(torch.float32) * (2.0 ** -23)  # exact
    v = s * torch.tensor(float(scale), dtype=torch.float32, device=device)
    return v + torch.tensor(float(offset), dtype=torch.float32, device=device)


def fill_tensor_torch(param, seed: int, name: str, chunk: int = 1 << 26) -> None:
    """Overwrites `param` (any float dtype, any device) with the tensor `name`, via bf16."""
    import torch
    key, scale, offset = fill_spec(seed, name, tuple(param.shape))
    flat = param.data.view(-1)
    n = flat.numel()
    for start in range(0, n, chunk):
        count = min(chunk, n - start)
        v = values_torch(key, scale, offset, start, count, param.device)
        flat[start:start + count].copy_(v.to(torch.bfloat16).to(param.dtype))


CHECK_NAMES = [('tok_embeddings', (131072, 5120)), ('norm', (5120,)), ('output', (131072, 5120)),
               ('layers.0.attention.wq', (4096, 5120)), ('vision.patch_conv', (1024, 3, 14, 14))]


def check_vectors(seed: int = 0, count: int = 8) -> dict:
    """First, middle-of-the-road and last `count` bf16 bit patterns of a few full-size tensors."""
    out = {}
    for name, shape in CHECK_NAMES:
        key, scale, offset = fill_spec(seed, name, shape)
        n = int(np.prod(shape))
        out[name] = dict(shape=list(shape), key=key, scale=float(scale), offset=float(offset), slices=[
            dict(start=start, bf16_bits=[int(b) for b in bf16_bits_np(values_np(key, scale, offset, start, count))])
            for start in (0, 1000, n - count)
        ])
    return dict(seed=seed, command='python3 tools/reference/dummy_weights.py', tensors=out)


if __name__ == '__main__':
    import json
    print(json.dumps(check_vectors(), indent=1))
