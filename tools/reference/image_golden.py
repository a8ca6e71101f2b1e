"""Golden data for src/image: mistral_common's ImageEncoder pipeline (docs/images.md) with PIL and cv2.

Usage: python3 tools/reference/image_golden.py test/fixtures/image/inputs OUT_DIR

Reads the committed inputs (make_image_inputs.py) plus integer patterns (image_patterns.py) at
sizes that exercise the size rule, and writes OUT_DIR/golden.json with, per case: decoded size
and md5 of the flattened RGB bytes, token grid and ids, output size, per-channel float64 sums,
and either the whole normalised output (<case>.f32, float32 little-endian [3, H, W]) when small
or the values at 4096 deterministic positions (<case>.sample.f32).
"""
import hashlib
import io
import json
import platform
import sys
from pathlib import Path

import cv2
import numpy as np
import PIL
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from image_patterns import pattern  # noqa: E402

PATCH, MAX_SIZE, MERGE = 14, 1540, 2
IMG, IMG_BREAK, IMG_END = 10, 12, 13
MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)
FULL_LIMIT = 40_000  # values; larger outputs are sampled
SAMPLES = 4096
BAD_INPUTS = {"not_an_image.png", "truncated.png", "truncated.jpg", "unsupported.bmp"}


def to_rgb(image: Image.Image) -> Image.Image:
    # mistral_common's _convert_to_rgb: RGB as is, anything else over white through its alpha.
    if image.mode == "RGB":
        return image
    if image.mode != "RGBA":
        image = image.convert("RGBA")
    canvas = Image.new("RGBA", image.size, "WHITE")
    canvas.paste(image, (0, 0), image)
    return canvas.convert("RGB")


def grid(w: int, h: int):
    ratio = max(h / MAX_SIZE, w / MAX_SIZE)
    if ratio > 1:
        w = round(w / ratio)
        h = round(h / ratio)
    side = PATCH * MERGE
    return (w - 1) // side + 1, (h - 1) // side + 1


def encode(image: Image.Image):
    wt, ht = grid(*image.size)
    tokens = ([IMG] * wt + [IMG_BREAK]) * ht
    tokens[-1] = IMG_END
    rgb = np.array(to_rgb(image), dtype=np.float32)
    resized = cv2.resize(rgb, (wt * PATCH * MERGE, ht * PATCH * MERGE), interpolation=cv2.INTER_CUBIC)
    x = resized / 255.0
    x = (x - MEAN) / STD
    return rgb, wt, ht, tokens, x.transpose(2, 0, 1)


def sample_positions(n: int) -> np.ndarray:
    # Same formula in test/image/golden.test.ts; exact in doubles for i < 4096.
    i = np.arange(SAMPLES, dtype=np.int64)
    return (i * 2654435761) % n


def record(name: str, image: Image.Image, out: Path, source: dict) -> dict:
    rgb, wt, ht, tokens, chw = encode(image)
    entry = {
        "name": name,
        **source,
        "mode": image.mode,
        "decodedWidth": image.size[0],
        "decodedHeight": image.size[1],
        "decodedRgbMd5": hashlib.md5(rgb.astype(np.uint8).tobytes()).hexdigest(),
        "widthTokens": wt,
        "heightTokens": ht,
        "tokens": tokens,
        "width": chw.shape[2],
        "height": chw.shape[1],
        "channelSums": [float(chw[c].sum(dtype=np.float64)) for c in range(3)],
    }
    flat = chw.reshape(-1)
    if flat.size <= FULL_LIMIT:
        entry["pixelsFile"] = f"{name}.f32"
        flat.astype("<f4").tofile(out / entry["pixelsFile"])
    else:
        entry["sampleFile"] = f"{name}.sample.f32"
        flat[sample_positions(flat.size)].astype("<f4").tofile(out / entry["sampleFile"])
    return entry


PATTERN_SIZES = [
    (3000, 40), (40, 3000), (1540, 1540), (1541, 1541), (1541, 700),
    (3080, 45), (3080, 47), (45, 3080), (6160, 10), (28, 28), (29, 57), (100, 100), (13, 7), (2, 1),
]


def main(inputs: str, out_dir: str) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cases = []
    for path in sorted(Path(inputs).iterdir()):
        if path.name in BAD_INPUTS:
            continue
        image = Image.open(io.BytesIO(path.read_bytes()))
        cases.append(record(path.stem + "_" + path.suffix[1:], image, out, {"file": path.name}))
    for w, h in PATTERN_SIZES:
        image = Image.fromarray(pattern(w, h))
        cases.append(record(f"pattern_{w}x{h}", image, out, {"pattern": [w, h]}))
    meta = {
        "generator": "tools/reference/image_golden.py",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "cv2": cv2.__version__,
        "pillow": PIL.__version__,
        "config": {"patchSize": PATCH, "maxImageSize": MAX_SIZE, "spatialMergeSize": MERGE},
        "samples": SAMPLES,
        "cases": cases,
    }
    (out / "golden.json").write_text(json.dumps(meta, separators=(",", ":")) + "\n")
    print(f"{len(cases)} cases, cv2 {cv2.__version__}, Pillow {PIL.__version__}, numpy {np.__version__}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
