# Writes test/fixtures/tokenizer/corpus.json: the text the tokenizer golden ids are computed on.
# Run from the repository root: python3 tools/reference/tokenizer_corpus_source.py
import json

E = []
def add(name, text):
    E.append({"name": name, "text": text})

# The 24 languages of the model card.
add("en", "The quick brown fox jumps over the lazy dog. Mistral Small 3.1 reads text and images; it answers in many languages.\nIsn't it nice? We'll see, they're sure.")
add("fr", "Le vieux château se dresse au-dessus de la vallée. « Où est passée l'été ? » demanda-t-elle, à peine réveillée. Ça coûte 12,50 € par personne.")
add("de", "Die Straßenbahn fährt über die Brücke, während Jürgen Äpfel und Öl kauft. Donaudampfschifffahrtsgesellschaftskapitän ist ein langes Wort.")
add("es", "¿Dónde está la biblioteca? ¡Qué día tan bonito! El niño comió una piña en la montaña con su señora abuela.")
add("pt", "A educação é a arma mais poderosa que você pode usar para mudar o mundo. Não há razão para preocupação, irmão; são só três horas.")
add("it", "Nel mezzo del cammin di nostra vita mi ritrovai per una selva oscura. Perché non è già arrivato? Così è la vita, più o meno.")
add("ja", "吾輩は猫である。名前はまだ無い。東京の天気は晴れですが、明日は雨が降るでしょう。カタカナとひらがなを混ぜて書きます。")
add("ko", "안녕하세요, 만나서 반갑습니다. 오늘 날씨가 정말 좋네요! 한국어는 한글로 씁니다.")
add("ru", "Москва — столица России. Съешь же ещё этих мягких французских булок, да выпей чаю. Ёжик в тумане.")
add("zh", "我们今天去公园散步吧。中华人民共和国成立于一九四九年。学而时习之，不亦说乎？")
add("ar", "مرحبا بالعالم. اللغة العربية جميلة جدا، وتكتب من اليمين إلى اليسار. كَتَبَ الطَّالِبُ الدَّرْسَ.")
add("fa", "سلام، حال شما چطور است؟ زبان فارسی در ایران، افغانستان و تاجیکستان صحبت می‌شود.")
add("id", "Selamat pagi! Saya sedang belajar bahasa Indonesia di Jakarta. Terima kasih atas bantuan Anda.")
add("ms", "Selamat datang ke Kuala Lumpur. Saya suka makan nasi lemak pada waktu pagi. Apa khabar semua?")
add("ne", "नेपाल एक सुन्दर देश हो। हिमालको काखमा रहेको यो देशमा धेरै भाषाहरू बोलिन्छन्।")
add("pl", "Zażółć gęślą jaźń. W Szczebrzeszynie chrząszcz brzmi w trzcinie. Dzień dobry, jak się masz?")
add("ro", "Bună ziua! Mâine mergem la munte, în Țara Bârsei. Știința și învățământul sunt importante.")
add("sr", "Добар дан, како сте? Београд је главни град Србије. Dobar dan, kako ste? Ćevapi i ćevapčići.")
add("sv", "Flygande bäckasiner söka hwila på mjuka tuvor. Jag älskar att åka skidor i fjällen på vintern.")
add("tr", "Pijamalı hasta yağız şoföre çabucak güvendi. İstanbul'da ılık bir akşam; ağaçların altında çay içtik.")
add("uk", "Чуєш їх, доцю, га? Кумедна ж ти, прощайся без ґольфів! Київ — столиця України.")
add("vi", "Tiếng Việt có sáu thanh điệu. Tôi đang học lập trình ở Hà Nội, và phở ở đây rất ngon.")
add("hi", "भारत एक विशाल देश है। मुझे हिंदी में किताबें पढ़ना पसंद है। नमस्ते, आप कैसे हैं?")
add("bn", "আমি বাংলায় গান গাই। ঢাকা বাংলাদেশের রাজধানী। রবীন্দ্রনাথ ঠাকুর নোবেল পুরস্কার পেয়েছিলেন।")

# Code.
add("code_python", "import numpy as np\n\n\ndef softmax(x: np.ndarray) -> np.ndarray:\n    \"\"\"Stable softmax.\"\"\"\n    e = np.exp(x - x.max(axis=-1, keepdims=True))\n    return e / e.sum(axis=-1, keepdims=True)\n\nif __name__ == '__main__':\n\tprint(softmax(np.array([1.0, 2.0, 3.0])))\n")
add("code_ts", "export function clamp(x: number, lo = 0, hi = 1): number {\n  return Math.min(hi, Math.max(lo, x)); // inclusive\n}\nconst re = /[^\\s\\p{L}]+/gu;\nlet s = `${a}/${b}`;\n")
add("code_c", "#include <stdio.h>\nint main(void){for(int i=0;i<10;++i){printf(\"%d\\n\",i*i);}return 0;}\r\n")
add("code_json_html", "{\"key\": [1, 2, 3], \"nested\": {\"a\": null, \"b\": true}}\n<div class=\"x\"><a href=\"https://example.com/path?q=1&r=2\">link</a></div>")
add("urls_paths", "See https://huggingface.co/mistralai/Mistral-Small-3.1-24B-Instruct-2503/blob/main/tekken.json and /usr/local/bin//node or C:\\Users\\me\\file.txt")

# Numbers.
add("numbers", "3.14159 2,718 1e-10 0x1F 1_000_000 123456789012345 -42 +7 ½ ⅔ ² ³ ١٢٣ ४५६ 〇一二三 ①②③ Ⅻ 50% $19.99 12:30")

# Emoji and ZWJ sequences, flags, skin tones, variation selectors.
add("emoji", "I ❤️ Paris 🇫🇷! 👍🏽 👩🏿‍💻 👨‍👩‍👧‍👦 🏳️‍🌈 🧑‍🤝‍🧑 😀😃😄 ✌︎ 1️⃣ #️⃣ 🫶")

# Combining marks, decomposed forms, marks after non-letters.
add("combining", "e\u0301cole nai\u0308ve Zalgo: Z\u0351\u0310\u0346a\u0352\u0347l\u0334g\u0315o\u0323 \u0301lone mark, \"\u0308quoted\", 1\u20e3 a\u200db x\u200cy")

# Mixed scripts inside words and sentences.
add("mixed_scripts", "GPU加速の計算はfastです。Москва2025 iPhone15Pro αβγ-test Δx=0.1 ՀայաստանGeorgia ქართული ไทยภาษา ελληνικά")

# Case patterns.
add("case", "HTTPServer XMLHttpRequest iOS macOS McDonald's ǅungla ǈubljana ÉCOLE Straße STRASSE camelCaseWord snake_case_word SCREAMING_CASE")

# Whitespace runs.
add("spaces", "a  b   c    d\t\te \t f\n\ng\n \n h\r\ni\rj\r\r\nk \r\n \r\n  l   \n   m\u00a0n\u3000o\u2003p\u0085q\ufeffr\u2028s\u2029t   ")
add("whitespace_only", "   \t\n  \r\n\r\n\n\n    ")
add("trailing_newlines", "line one\nline two\n\n\nline three   \n")
add("lone_cr", "first\rsecond\r\rthird \r fourth\r")

# Text that spells special tokens: must stay plain text.
add("special_literals", "[INST] Hello [/INST] answer</s><s>[INST]again[/INST] [IMG][IMG_BREAK][IMG_END] [SYSTEM_PROMPT]x[/SYSTEM_PROMPT] <unk> <pad> <SPECIAL_20>")

# Punctuation runs, quotes, slashes.
add("punctuation", "Wait... what?!?! --- (really) [yes] {no} <maybe> ''\"\"``  ***bold*** ~~strike~~ //comment/// a/b/c ,,;; ¿¡ «»„“”‘’ 。、！？")

# Edge characters: lone surrogate, NUL, control characters, private use, astral letters.
add("edge_chars", "nul\u0000byte bell\u0007 esc\u001b[0m del\u007f pua\ue000 astral 𝐀𝐁𝐂 𝒶𝒷 𐍈 𠀋𠀍 lone\ud800surrogate end\udfff")

add("empty", "")
add("single_space", " ")

with open("test/fixtures/tokenizer/corpus.json", "w", encoding="utf-8") as f:
    json.dump({"entries": E, "long": {"separator": "\n\n", "repeat": 6}}, f, ensure_ascii=True, indent=1)
    f.write("\n")
print(len(E), "entries")
