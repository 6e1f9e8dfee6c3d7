"""GSM-7 and SMS segments (handlers/sms/gsm7.py, issue 16 §3): the GSM 03.38 alphabet and its
extension table, exact segment counts in both encodings, and transliteration that always
yields GSM-7."""

from __future__ import annotations

import itertools
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.sms.gsm7 import (
    BASIC,
    EXTENSION,
    is_gsm7,
    segments,
    septets,
    transliterate,
    utf16_units,
    without_pictographs,
)

# The default alphabet as 3GPP TS 23.038 lists it, by code point (0x1B, the escape, omitted).
SPEC_BASIC = [
    0x40, 0xA3, 0x24, 0xA5, 0xE8, 0xE9, 0xF9, 0xEC, 0xF2, 0xC7, 0x0A, 0xD8, 0xF8, 0x0D, 0xC5,
    0xE5, 0x394, 0x5F, 0x3A6, 0x393, 0x39B, 0x3A9, 0x3A0, 0x3A8, 0x3A3, 0x398, 0x39E, 0xC6,
    0xE6, 0xDF, 0xC9, 0x20, 0x21, 0x22, 0x23, 0xA4, *range(0x25, 0x40), 0xA1,
    *range(0x41, 0x5B), 0xC4, 0xD6, 0xD1, 0xDC, 0xA7, 0xBF, *range(0x61, 0x7B), 0xE4, 0xF6,
    0xF1, 0xFC, 0xE0,
]  # fmt: skip
SPEC_EXTENSION = [0x0C, 0x5E, 0x7B, 0x7D, 0x5C, 0x5B, 0x7E, 0x5D, 0x7C, 0x20AC]

# The twelve vowels of Vietnamese (a ă â e ê i o ô ơ u ư y) and the five tones.
VOWELS = ["a", "a\u0306", "a\u0302", "e", "e\u0302", "i", "o", "o\u0302", "o\u031b", "u",
          "u\u031b", "y"]  # fmt: skip
TONES = ["", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323"]


def vietnamese_letters() -> set[str]:
    """Every precomposed Vietnamese letter with a mark (a vowel with a vowel mark or a tone,
    or both), and đ, in both cases."""
    letters = {"đ", "Đ"}
    for vowel, tone in itertools.product(VOWELS, TONES):
        for case in (vowel, vowel[0].upper() + vowel[1:]):
            composed = unicodedata.normalize("NFC", case + tone)
            assert len(composed) == 1
            if composed not in "aeiouyAEIOUY":
                letters.add(composed)
    return letters


def reference_segments(text: str) -> int:
    """Segments built by hand: the text as its encoded units, then parts filled in order."""
    if all(ord(ch) in SPEC_BASIC or ord(ch) in SPEC_EXTENSION for ch in text):
        # Septets; an extension character is the escape and itself: two that stay together.
        units = [["\x1b", ch] if ord(ch) in SPEC_EXTENSION else [ch] for ch in text]
        single, part = 160, 153
    else:
        raw = text.encode("utf-16-le")
        code_units = [raw[i : i + 2] for i in range(0, len(raw), 2)]
        units = []
        for unit in code_units:
            low_surrogate = 0xDC00 <= int.from_bytes(unit, "little") <= 0xDFFF
            if low_surrogate and units:
                units[-1].append(unit)  # the pair stays together
            else:
                units.append([unit])
        single, part = 70, 67
    if sum(len(u) for u in units) <= single:
        return 1
    parts: list[list[object]] = [[]]
    for unit in units:
        if len(parts[-1]) + len(unit) > part:
            parts.append([])
        parts[-1].extend(unit)
    assert all(len(p) <= part for p in parts)
    return len(parts)


def test_the_alphabet_is_the_standards() -> None:
    assert {ord(ch) for ch in BASIC} == set(SPEC_BASIC)
    assert len(BASIC) == 127  # 128 code points, one of them the escape
    assert {ord(ch) for ch in EXTENSION} == set(SPEC_EXTENSION)
    assert is_gsm7("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ ¤¡ÄÖÑÜ§¿äöñüà{}[]~^|\\€\f")
    for outside in ("`", "ă", "đ", "ç", "–", "…", "✅", "😀", "\t", "\x1b"):
        assert not is_gsm7(outside), outside


def test_extension_characters_count_two_septets() -> None:
    assert septets("a{") == 3
    assert septets("€€") == 4
    assert septets("\f") == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("a" * 459, 3),
        ("a" * 460, 4),
        ("€" * 80, 1),  # 160 septets
        ("€" * 81, 2),  # 162 septets: 76 per part
        ("a" * 159 + "€", 2),  # 161 septets
        ("a" * 152 + "€" + "a" * 152, 3),  # the € would straddle parts 1 and 2
        ("a" * 151 + "€" + "a" * 153, 2),  # 153 + 153
        ("Da luu KV05: 250/320 (78,1%) luc 9:00", 1),
        ("ă" * 70, 1),
        ("ă" * 71, 2),
        ("ă" * 134, 2),
        ("ă" * 135, 3),
        ("a" * 160 + "ă", 3),  # one accented letter makes the whole text UCS-2
        ("😀" * 35, 1),  # 70 code units
        ("😀" * 36, 2),  # 33 emoji (66 units) per part: a pair is not split
        ("a" * 69 + "😀", 2),
        ("a" * 66 + "😀" + "a" * 66, 3),  # the emoji would straddle parts 1 and 2
        ("Đã lưu KV05: 250/320 (78,1%) lúc 9:00", 1),
    ],
)
def test_known_segment_counts(text: str, expected: int) -> None:
    assert segments(text) == expected
    assert reference_segments(text) == expected


GSM_HEAVY = st.text(alphabet=st.sampled_from(sorted(BASIC | EXTENSION)), min_size=140, max_size=480)
UCS2_HEAVY = st.text(
    alphabet=st.sampled_from(["a", "ă", "€", "😀", "Đ", " ", "{", "\n", "🇻"]),
    min_size=60,
    max_size=220,
)


@settings(deadline=None, max_examples=400)
@given(st.one_of(GSM_HEAVY, UCS2_HEAVY, st.text(max_size=300)))
def test_segments_agree_with_parts_built_by_hand(text: str) -> None:
    assert segments(text) == reference_segments(text)


def test_lengths_count_what_the_network_counts() -> None:
    assert utf16_units("a😀ă") == 4
    assert septets("a€") == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Đã lưu KV05: 250/320 (78,1%) lúc 9:00", "Da luu KV05: 250/320 (78,1%) luc 9:00"),
        ("Lưu ý: Đường Ước Ðồng", "Luu y: Duong Uoc Dong"),
        ("Chưa lưu – giờ 05:00–21:00…", "Chua luu - gio 05:00-21:00..."),
        ("“Thôn Na Lốc” ‘x’ «KV05»", '"Thon Na Loc" \'x\' "KV05"'),
        ("≥ 5 × 2 ≤ 9 · 3 ÷ 4 ≠ 1 → ok", ">= 5 x 2 <= 9 - 3 / 4 <> 1 -> ok"),
        ("🎉 Tất cả 9 khu vực", "Tat ca 9 khu vuc"),
        ("📊 Xã A\n🗂 B", "Xa A\nB"),
        ("OK 👍 xong", "OK xong"),
        ("ÇçÑñÄäÜüßØ€{}", "ÇcÑñÄäÜüßØ€{}"),  # GSM-7 letters that are not Vietnamese stay
        ("Giá 5.000₫\t½", "Gia 5.000d 1/2"),
        ("中文 Ελλάδα ΔΣ", "?? ?????? ΔΣ"),  # Greek capitals of GSM-7 stay
        ("\x00\x1b\u200b\u202eabc\ue000", "abc"),
        ("Đã lưu", "Da luu"),  # decomposed (NFD) input too
    ],
)
def test_transliterated(text: str, expected: str) -> None:
    if text == "Đã lưu":
        text = unicodedata.normalize("NFD", text)
    assert transliterate(text) == expected


def test_every_vietnamese_letter_loses_its_marks() -> None:
    letters = vietnamese_letters()
    assert len(letters) == 134  # 67 lower-case and 67 upper-case with marks, đ and Đ included
    for letter in letters:
        base = "d" if letter in "đĐ" else unicodedata.normalize("NFD", letter)[0].lower()
        assert transliterate(letter).lower() == base, letter
        assert transliterate(letter).isupper() == letter.isupper(), letter


@settings(deadline=None, max_examples=500)
@given(st.text(alphabet=st.characters(exclude_categories=()), max_size=200))
def test_transliteration_is_always_gsm7_and_stable(text: str) -> None:
    result = transliterate(text)
    assert is_gsm7(result)
    assert transliterate(result) == result


@settings(deadline=None, max_examples=300)
@given(st.text(alphabet=st.characters(exclude_categories=()), max_size=200))
def test_an_accented_text_keeps_its_letters_and_loses_its_pictographs(text: str) -> None:
    result = without_pictographs(text)
    for ch in result:
        assert unicodedata.category(ch) not in ("So", "Cs", "Co", "Cc", "Cf") or ch in "\n\r°©®™№"
    letters = [ch for ch in text if unicodedata.category(ch).startswith(("L", "N"))]
    assert [ch for ch in result if unicodedata.category(ch).startswith(("L", "N"))] == letters


def test_an_accented_text_keeps_vietnamese_as_written() -> None:
    assert without_pictographs("✅ Đã lưu KV05 – 78,1% 🎉") == "Đã lưu KV05 – 78,1% "
