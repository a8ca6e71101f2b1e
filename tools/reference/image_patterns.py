"""Deterministic integer test patterns shared with test/image/patterns.ts (same formula)."""
import numpy as np


def pattern(width: int, height: int) -> np.ndarray:
    """uint8 RGB [height, width, 3]: gradients, a checker of text-like edges, and a pseudo-noise term."""
    y, x = np.mgrid[0:height, 0:width].astype(np.int64)
    out = np.empty((height, width, 3), dtype=np.uint8)
    for c in range(3):
        v = (x * (c + 1) * 3 + y * (5 - c) * 2
             + ((x // 7 + y // 11) % 2) * 100
             + (x * x + y * 31 * (c + 1)) % 17)
        out[..., c] = (v % 256).astype(np.uint8)
    return out
