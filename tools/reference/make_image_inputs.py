"""Writes the small test images of test/fixtures/image/inputs (committed; run once, locally).

Usage: python3 tools/reference/make_image_inputs.py test/fixtures/image/inputs
The golden data (image_golden.py) is computed from these exact files, so they are generated
once and committed rather than regenerated on each machine (encoders differ across versions).
"""
import struct
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
from PIL import Image


def gradient(w, h):
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // max(w - 1, 1), y * 255 // max(h - 1, 1), (x + y) * 255 // max(w + h - 2, 1)], -1).astype(np.uint8)


def noisy(w, h, rng, sigma=30):
    base = gradient(w, h).astype(np.float64)
    return np.clip(base + rng.normal(0, sigma, base.shape), 0, 255).astype(np.uint8)


def text_like(w, h, rng):
    img = np.full((h, w, 3), 255, np.uint8)
    for _ in range(40):
        x0, y0 = rng.integers(0, w - 6), rng.integers(0, h - 8)
        img[y0:y0 + rng.integers(2, 8), x0:x0 + rng.integers(1, 6)] = rng.integers(0, 80, 3)
    return img


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def write_interlaced_png(path: Path, rgb: np.ndarray) -> None:
    """An Adam7-interlaced 8-bit RGB PNG with mixed row filters (neither PIL nor cv2 writes these)."""
    h, w, _ = rgb.shape
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    raw = bytearray()
    for x0, y0, dx, dy in passes:
        sub = rgb[y0::dy, x0::dx]
        if sub.size == 0:
            continue
        prev = None
        for i, row in enumerate(sub):
            row = row.reshape(-1).astype(np.int32)
            f = i % 3  # filters 0 (none), 1 (sub), 2 (up)
            if f == 1:
                enc = row - np.concatenate([[0, 0, 0], row[:-3]])
            elif f == 2:
                enc = row - (prev if prev is not None else 0)
            else:
                enc = row
            raw.append(f)
            raw += (enc % 256).astype(np.uint8).tobytes()
            prev = row
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 1)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(bytes(raw)))
                     + png_chunk(b"IEND", b""))


def pack_rows(samples: np.ndarray, bit_depth: int) -> bytes:
    """Unfiltered PNG rows of integer samples [h, w * channels] at any bit depth."""
    rows = []
    for r in samples:
        if bit_depth == 16:
            rows.append(b"\x00" + np.asarray(r, ">u2").tobytes())
        elif bit_depth == 8:
            rows.append(b"\x00" + np.asarray(r, np.uint8).tobytes())
        else:
            per = 8 // bit_depth
            packed = bytearray()
            for i in range(0, len(r), per):
                v = 0
                for j in range(per):
                    v = (v << bit_depth) | (int(r[i + j]) if i + j < len(r) else 0)
                packed.append(v)
            rows.append(b"\x00" + bytes(packed))
    return b"".join(rows)


def raw_png(w, h, bit_depth, color_type, samples, plte=None, trns=None) -> bytes:
    out = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, 0))
    if plte is not None:
        out += png_chunk(b"PLTE", plte)
    if trns is not None:
        out += png_chunk(b"tRNS", trns)
    return out + png_chunk(b"IDAT", zlib.compress(pack_rows(samples, bit_depth))) + png_chunk(b"IEND", b"")


def png_edge_cases(out: Path) -> None:
    """Every grey/palette bit depth with and without tRNS, RGB with a tRNS colour, a short PLTE."""
    rng = np.random.default_rng(7)
    w, h = 13, 9
    for bd in (1, 2, 4, 8, 16):
        s = rng.integers(0, 2**bd, (h, w))
        (out / f"png_grey{bd}.png").write_bytes(raw_png(w, h, bd, 0, s))
        (out / f"png_grey{bd}_trns.png").write_bytes(raw_png(w, h, bd, 0, s, trns=struct.pack(">H", int(s[0, 0]))))
    for bd in (8, 16):
        s = rng.integers(0, 2**bd, (h, w * 3))
        (out / f"png_rgb{bd}_trns.png").write_bytes(
            raw_png(w, h, bd, 2, s, trns=struct.pack(">HHH", *[int(x) for x in s[0, :3]])))
    for bd in (1, 2, 4, 8):
        n = 2**bd
        s = rng.integers(0, n, (h, w))
        plte = rng.integers(0, 256, n * 3).astype(np.uint8).tobytes()
        (out / f"png_pal{bd}.png").write_bytes(raw_png(w, h, bd, 3, s, plte=plte))
        trns = bytes(rng.integers(0, 256, max(1, n // 2)).astype(np.uint8))
        (out / f"png_pal{bd}_trns.png").write_bytes(raw_png(w, h, bd, 3, s, plte=plte, trns=trns))
    s = rng.integers(0, 16, (h, w))
    (out / "png_pal_short.png").write_bytes(raw_png(w, h, 8, 3, s, plte=rng.integers(0, 256, 24).astype(np.uint8).tobytes()))


def gif_with_small_first_frame(transparent: bool) -> bytes:
    """An 8x6 GIF whose only frame is 4x3 at (2, 1); LZW written with a clear code every 2 codes."""
    palette = bytes([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30])
    indices = [(i * 7) % 4 for i in range(12)]
    clear, end, size = 4, 5, 3
    codes = []
    for i, v in enumerate(indices):
        if i % 2 == 0:
            codes.append(clear)
        codes.append(v)
    codes.append(end)
    bits = nbits = 0
    data = bytearray()
    for c in codes:
        bits |= c << nbits
        nbits += size
        while nbits >= 8:
            data.append(bits & 255)
            bits >>= 8
            nbits -= 8
    if nbits:
        data.append(bits & 255)
    gce = b"\x21\xf9\x04\x01\x00\x00\x02\x00" if transparent else b""
    return (b"GIF89a" + struct.pack("<HHBBB", 8, 6, 0x81, 1, 0) + palette + gce + b"\x2c"
            + struct.pack("<HHHHB", 2, 1, 4, 3, 0) + b"\x02" + bytes([len(data)]) + bytes(data) + b"\x00\x3b")


def more_gif_webp_cases(out: Path) -> None:
    rng = np.random.default_rng(11)
    rgba = np.concatenate([rng.integers(0, 256, (29, 41, 3), dtype=np.uint8),
                           rng.integers(0, 256, (29, 41, 1), dtype=np.uint8)], -1)
    Image.fromarray(rgba, "RGBA").save(out / "lossy_alpha.webp", quality=70)
    frames = [Image.fromarray(rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)) for _ in range(3)]
    frames[0].save(out / "animated.webp", save_all=True, append_images=frames[1:], quality=80)
    Image.fromarray(rng.integers(0, 256, (17, 33, 3), dtype=np.uint8)).quantize(64).save(out / "plain.gif")
    Image.fromarray(rng.integers(0, 256, (17, 33), dtype=np.uint8), "L").save(out / "grey.gif")
    (out / "gif_small_first_frame.gif").write_bytes(gif_with_small_first_frame(False))
    (out / "gif_small_first_frame_trns.gif").write_bytes(gif_with_small_first_frame(True))


def main(out_dir: str) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20261127)
    Image.fromarray(gradient(64, 48)).save(out / "gradient_rgb.png")
    Image.fromarray(noisy(37, 29, rng, 60)).save(out / "noise_rgb.png")
    Image.fromarray(text_like(120, 45, rng)).save(out / "text_edges.png")
    rgba = np.concatenate([noisy(50, 40, rng), rng.integers(0, 256, (40, 50, 1), dtype=np.uint8)], -1)
    rgba[:5, :5, 3] = 0
    rgba[5:10, :5, 3] = 255
    Image.fromarray(rgba, "RGBA").save(out / "rgba_partial_alpha.png")
    pal = Image.fromarray(noisy(33, 21, rng)).quantize(colors=16)
    pal.info["transparency"] = bytes([0, 128, 255, 40])  # alpha for the first 4 palette entries
    pal.save(out / "palette_trns.png", transparency=bytes([0, 128, 255, 40]))
    Image.fromarray(noisy(33, 21, rng)).quantize(colors=5).save(out / "palette_4bit.png", bits=4)
    grey = noisy(45, 31, rng)[..., 0]
    Image.fromarray(grey, "L").save(out / "grey.png")
    Image.fromarray(grey, "L").save(out / "grey_trns.png", transparency=int(grey[3, 3]))
    la = np.stack([grey[:30, :30], rng.integers(0, 256, (30, 30), dtype=np.uint8)], -1)
    Image.fromarray(la, "LA").save(out / "grey_alpha.png")
    Image.fromarray(rng.integers(0, 2, (17, 23), dtype=np.uint8) * 255, "L").convert("1").save(out / "bilevel.png")
    g16 = rng.integers(0, 65536, (20, 25), dtype=np.uint16)
    g16[:10] = rng.integers(0, 256, (10, 25), dtype=np.uint16)  # half the rows below 256
    cv2.imwrite(str(out / "grey16.png"), g16)
    cv2.imwrite(str(out / "rgb16.png"), rng.integers(0, 65536, (19, 23, 3), dtype=np.uint16))
    cv2.imwrite(str(out / "rgba16.png"), rng.integers(0, 65536, (19, 23, 4), dtype=np.uint16))
    # 16-bit grey+alpha: write with our own chunk writer (cv2 has no 2-channel PNG).
    la16 = rng.integers(0, 65536, (13, 11, 2), dtype=np.uint16)
    rows = b"".join(b"\x00" + r.astype(">u2").tobytes() for r in la16)
    (out / "grey_alpha16.png").write_bytes(
        b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 11, 13, 16, 4, 0, 0, 0))
        + png_chunk(b"IDAT", zlib.compress(rows)) + png_chunk(b"IEND", b""))
    write_interlaced_png(out / "interlaced_rgb.png", noisy(29, 19, rng))
    Image.fromarray(np.array([[[200, 30, 90]]], np.uint8)).save(out / "one_pixel.png")
    photo = noisy(203, 157, rng, 12)
    Image.fromarray(photo).save(out / "baseline_420.jpg", quality=85)
    Image.fromarray(photo).save(out / "baseline_444.jpg", quality=92, subsampling=0)
    Image.fromarray(photo).save(out / "progressive.jpg", quality=85, progressive=True)
    Image.fromarray(photo[..., 1]).save(out / "grey.jpg", quality=85)
    Image.fromarray(photo).save(out / "lossy.webp", quality=80)
    Image.fromarray(rgba).save(out / "lossless_alpha.webp", lossless=True)
    gif = Image.fromarray(noisy(40, 30, rng)).quantize(colors=32)
    gif.save(out / "frames.gif", save_all=True, transparency=3,
             append_images=[Image.fromarray(gradient(40, 30)).quantize(colors=32)])
    (out / "not_an_image.png").write_bytes(b"hello, this is text and not an image\n" * 3)
    full = (out / "gradient_rgb.png").read_bytes()
    (out / "truncated.png").write_bytes(full[: len(full) // 2])
    jpg = (out / "baseline_420.jpg").read_bytes()
    (out / "truncated.jpg").write_bytes(jpg[: len(jpg) // 2])
    Image.fromarray(gradient(8, 8)).save(out / "unsupported.bmp")
    # Added later, with its own generator so the files above stay byte-identical.
    rng2 = np.random.default_rng(4)
    cmyk = np.concatenate([noisy(61, 43, rng2, 12), rng2.integers(0, 256, (43, 61, 1), dtype=np.uint8)], -1)
    Image.fromarray(cmyk, "CMYK").save(out / "cmyk.jpg", quality=90)  # PIL writes an Adobe marker
    png_edge_cases(out)
    more_gif_webp_cases(out)


if __name__ == "__main__":
    main(sys.argv[1])
