"""What fits in an SMS: the GSM 03.38 alphabet, exact segment counts, and transliteration.

An SMS travels in one of two encodings. GSM-7 (3GPP TS 23.038, the default alphabet): 128
basic characters of one septet each, and an extension table reached through an escape, whose
characters (`^ { } \\ [ ~ ] | €` and form feed) take two. A single message holds 160 septets;
a longer text is sent as concatenated parts of 153 septets each (the user data header takes
the rest), and an extension character is never split across two parts. Any character outside
GSM-7 makes the whole text UCS-2: 70 UTF-16 code units alone, 67 per part when concatenated,
and a surrogate pair (an emoji, say) is never split across two parts.

`transliterate` turns any text into GSM-7: Vietnamese without its tone and vowel marks
(`đ`/`Đ` as `d`/`D`), typographic characters as their ASCII look-alikes (`–` → `-`,
`…` → `...`, curly quotes, `≥` → `>=` …), and pictographs (emoji) and other symbols dropped.
Letters of other scripts become `?`, so a reader sees that something was there.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator
from typing import Final

# The default alphabet, by code point order 0x00–0x7F; 0x1B is the escape to the extension
# table, not a character of its own.
_BASIC_TABLE: Final = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
BASIC: Final = frozenset(_BASIC_TABLE) - {"\x1b"}
EXTENSION: Final = frozenset("\x0c^{}\\[~]|€")
GSM7: Final = BASIC | EXTENSION

GSM7_SINGLE: Final = 160  # septets in a message sent alone
GSM7_PART: Final = 153  # septets in each part of a concatenated message
UCS2_SINGLE: Final = 70  # UTF-16 code units in a message sent alone
UCS2_PART: Final = 67  # UTF-16 code units in each part of a concatenated message


def is_gsm7(text: str) -> bool:
    """Whether the whole text can travel in the GSM-7 default alphabet (with its extension)."""
    return all(ch in GSM7 for ch in text)


def septets(text: str) -> int:
    """The GSM-7 length of a GSM-7 text: one per basic character, two per extension one."""
    return sum(2 if ch in EXTENSION else 1 for ch in text)


def utf16_units(text: str) -> int:
    """The UCS-2 (UTF-16) length: a character outside the Basic Multilingual Plane is two."""
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)


def _parts(sizes: Iterator[int], single: int, part: int) -> int:
    """How many parts units of these sizes fill: one if they all fit in `single`, else parts
    of at most `part`, a unit never split across two."""
    total = 0
    count = 1
    used = 0
    for size in sizes:
        total += size
        if used + size > part:
            count += 1
            used = 0
        used += size
    return 1 if total <= single else count


def segments(text: str) -> int:
    """How many SMS the text is sent as: GSM-7 when every character is GSM-7 (160 alone,
    153 per part), else UCS-2 (70 alone, 67 per part). An empty text is one message."""
    if is_gsm7(text):
        return _parts((2 if ch in EXTENSION else 1 for ch in text), GSM7_SINGLE, GSM7_PART)
    return _parts((2 if ord(ch) > 0xFFFF else 1 for ch in text), UCS2_SINGLE, UCS2_PART)


# -- transliteration ---------------------------------------------------------------------------

# The marks Vietnamese writes on its vowels: tones (grave, acute, tilde, hook above, dot below)
# and the vowel marks (circumflex, breve, horn).
_VIETNAMESE_MARKS: Final = frozenset("\u0300\u0301\u0303\u0309\u0323\u0302\u0306\u031b")
_VIETNAMESE_BASES: Final = frozenset("aeiouyAEIOUY")

# Characters with an ASCII look-alike (checked before anything else).
_LOOK_ALIKES: Final = {
    "đ": "d",
    "Đ": "D",
    "ð": "d",
    "Ð": "D",
    "₫": "d",  # the đồng sign
    "–": "-",
    "—": "-",
    "‒": "-",
    "―": "-",
    "−": "-",
    "‐": "-",
    "‑": "-",
    "⁃": "-",
    "•": "-",
    "·": "-",
    "‧": "-",
    "∙": "-",
    "◦": "-",
    "…": "...",
    "‘": "'",
    "’": "'",
    "‚": "'",
    "‛": "'",
    "′": "'",
    "`": "'",
    "´": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "‟": '"',
    "″": '"',
    "«": '"',
    "»": '"',
    "‹": "<",
    "›": ">",
    "×": "x",
    "✕": "x",
    "✖": "x",
    "÷": "/",
    "⁄": "/",
    "∕": "/",
    "≥": ">=",
    "≤": "<=",
    "≠": "<>",
    "≈": "~",
    "±": "+/-",
    "→": "->",
    "←": "<-",
    "⇒": "=>",
    "°": "o",
    "º": "o",
    "ª": "a",
    "©": "(c)",
    "®": "(R)",
    "™": "TM",
    "¢": "c",
    "‰": "o/oo",
    "\t": " ",
    "\u2028": "\n",  # line separator
    "\u2029": "\n",  # paragraph separator
}
_MAX_EXPANSION: Final = 4  # septets one character may become (`o/oo`); more reads as `?`


def _is_vietnamese_letter(ch: str) -> bool:
    if ch in "đĐ":
        return True
    decomposed = unicodedata.normalize("NFD", ch)
    return (
        len(decomposed) > 1
        and decomposed[0] in _VIETNAMESE_BASES
        and all(mark in _VIETNAMESE_MARKS for mark in decomposed[1:])
    )


def _one(ch: str) -> str:
    """One character as GSM-7: itself, a look-alike, its letters without marks, `?` for a
    letter or digit of another script, nothing for a symbol, mark or control character."""
    if ch in _LOOK_ALIKES:
        return _LOOK_ALIKES[ch]
    if ch in GSM7 and not _is_vietnamese_letter(ch):
        return ch
    category = unicodedata.category(ch)
    if category == "Zs":
        return " "
    decomposed = "".join(
        c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)
    )
    simple = "".join(_LOOK_ALIKES.get(c, c) for c in decomposed)
    if simple and is_gsm7(simple) and septets(simple) <= _MAX_EXPANSION:
        return simple
    if category[0] in "LN":
        return "?"
    return ""  # emoji and other symbols, marks, controls, private use, surrogates


def transliterate(text: str) -> str:
    """The text in the GSM-7 alphabet (see the module's doc). A dropped symbol takes the
    spaces after it along when nothing but a space or a line break precedes it
    (`🎉 Tất cả` → `Tat ca`); every other space stays."""
    return _filtered(text, _one)


# Symbols an accented SMS keeps: typographic ones every phone shows.
_SYMBOLS_KEPT: Final = frozenset("°©®™№₫")


def _unicode_one(ch: str) -> str:
    category = unicodedata.category(ch)
    if ch in "\n\r" or ch in _SYMBOLS_KEPT:
        return ch
    if ch == "\t" or category == "Zs":
        return " "
    if category in ("So", "Cc", "Cf", "Co", "Cs", "Cn", "Me", "Zl", "Zp"):
        return "\n" if category in ("Zl", "Zp") else ""
    if category == "Mn" and not unicodedata.combining(ch):
        return ""  # variation selectors and the like
    return ch


def without_pictographs(text: str) -> str:
    """The text without emoji, variation selectors, joiners, control and private-use
    characters (for an accented, UCS-2 SMS, which keeps every letter and mark); a dropped
    symbol takes the spaces after it along, as in `transliterate`."""
    return _filtered(text, _unicode_one)


def _filtered(text: str, one: Callable[[str], str]) -> str:
    out: list[str] = []
    dropped = False
    for ch in text:
        if dropped and ch == " " and (not out or out[-1][-1] in " \n"):
            continue
        piece = one(ch)
        dropped = not piece
        if piece:
            out.append(piece)
    return "".join(out)
