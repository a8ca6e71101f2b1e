"""The q/k row permutation between the Mistral (interleaved-pair RoPE) and the HF
(rotate-half RoPE) checkpoint layouts, and a numpy self-check that proves its direction.

transformers' convert_mistral3_weights_to_hf.py turns Mistral rows into HF rows with
`w.view(n_heads, head_dim // 2, 2, dim).transpose(1, 2).reshape(n_heads * head_dim, dim)`,
that is HF_row[h*hd + half*hd/2 + i] = MISTRAL_row[h*hd + 2*i + half] (docs/model.md#rope-permutation).
Only numpy is needed, so this runs anywhere.
"""

from __future__ import annotations

import numpy as np


def mistral_to_hf_rows(w: np.ndarray, n_heads: int) -> np.ndarray:
    rows, dim = w.shape
    hd = rows // n_heads
    return w.reshape(n_heads, hd // 2, 2, dim).transpose(0, 2, 1, 3).reshape(rows, dim)


def hf_to_mistral_rows(w: np.ndarray, n_heads: int) -> np.ndarray:
    rows, dim = w.shape
    hd = rows // n_heads
    return w.reshape(n_heads, 2, hd // 2, dim).transpose(0, 2, 1, 3).reshape(rows, dim)


def _rope_rotate_half(x: np.ndarray, angles: np.ndarray) -> np.ndarray:
    # x [hd]; angles [hd/2]: dims (i, i + hd/2) rotate together by angles[i]
    h = x.shape[0] // 2
    c, s = np.cos(angles), np.sin(angles)
    return np.concatenate([x[:h] * c - x[h:] * s, x[h:] * c + x[:h] * s])


def _rope_interleaved(x: np.ndarray, angles: np.ndarray) -> np.ndarray:
    # x [hd]; dims (2i, 2i + 1) rotate together by angles[i]
    c, s = np.cos(angles), np.sin(angles)
    out = np.empty_like(x)
    out[0::2] = x[0::2] * c - x[1::2] * s
    out[1::2] = x[1::2] * c + x[0::2] * s
    return out


def check_direction(seed: int = 0) -> None:
    """Attention scores of an HF-layout q/k with rotate-half RoPE equal those of the
    Mistral-layout q/k (hf_to_mistral_rows) with interleaved RoPE, for every head."""
    rng = np.random.default_rng(seed)
    n_heads, hd, dim = 3, 8, 5
    wq_hf = rng.standard_normal((n_heads * hd, dim))
    wk_hf = rng.standard_normal((n_heads * hd, dim))
    wq_m, wk_m = hf_to_mistral_rows(wq_hf, n_heads), hf_to_mistral_rows(wk_hf, n_heads)
    assert np.array_equal(mistral_to_hf_rows(wq_m, n_heads), wq_hf)
    x, y = rng.standard_normal(dim), rng.standard_normal(dim)
    inv_freq = 1e4 ** (-np.arange(0, hd, 2) / hd)
    for pq, pk in [(0, 0), (3, 1), (7, 5)]:
        for h in range(n_heads):
            sl = slice(h * hd, (h + 1) * hd)
            s_hf = _rope_rotate_half(wq_hf[sl] @ x, pq * inv_freq) @ _rope_rotate_half(wk_hf[sl] @ y, pk * inv_freq)
            s_m = _rope_interleaved(wq_m[sl] @ x, pq * inv_freq) @ _rope_interleaved(wk_m[sl] @ y, pk * inv_freq)
            assert abs(s_hf - s_m) < 1e-9, (pq, pk, h, s_hf, s_m)
    # and the wrong direction must NOT pass (the check can fail)
    wq_bad = mistral_to_hf_rows(wq_hf, n_heads)
    wk_bad = mistral_to_hf_rows(wk_hf, n_heads)
    sl = slice(0, hd)
    s_hf = _rope_rotate_half(wq_hf[sl] @ x, 3 * inv_freq) @ _rope_rotate_half(wk_hf[sl] @ y, 1 * inv_freq)
    s_bad = _rope_interleaved(wq_bad[sl] @ x, 3 * inv_freq) @ _rope_interleaved(wk_bad[sl] @ y, 1 * inv_freq)
    assert abs(s_hf - s_bad) > 1e-6, 'direction check cannot tell the two permutations apart'


if __name__ == '__main__':
    check_direction()
    print('rope layout direction: ok')
