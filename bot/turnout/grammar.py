"""Report grammar: read the free text of a chief's message into parsed report lines.

A message holds one or more reports, separated by ``;`` or new lines. A report may
start with an area prefix (``KV05: …``) that carries over to the following reports of
the same message. Each report is a turnout count (``250/320 9h``), a completion
(``xong 12h30``), or a staff COVID-test result (``xn 16/16 âm tính``), and may be a
correction of an earlier one (``sửa …``).

The grammar only *reads*. It does not judge the numbers against stored state or the
clock (validation does that) and it never words answers for the chief (the texts
module does that): a line it cannot read comes back as an :class:`UnreadableLine`
with a reason code and the offending token.

It reads strictly on purpose: an unknown word, a number too many or a digit group
that could be read two ways makes the line unreadable. Asking a chief to resend costs
a minute; a misread count goes into the national tally.

Entry point: :func:`parse_message`.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from dataclasses import dataclass, field
from enum import Enum, auto

from bot.turnout.lines import (
    ParsedLine,
    ParsedReport,
    ReportKind,
    StatedDate,
    UnreadableLine,
    UnreadableReason,
)

__all__ = ["Folded", "fold", "parse_message", "read_grouped_number"]


# --------------------------------------------------------------------------- folding
#
# The grammar reads a "folded" copy of each line: compatibility forms unified (full-width
# digits), lowercase, diacritics stripped, đ→d, every kind of space a plain space and
# invisible format characters dropped. Each folded character remembers which raw
# characters it came from, so the tokens we report (`detail`, `area_code`) can be shown
# as the chief typed them.


@functools.lru_cache(maxsize=1 << 12)  # messages reuse a small alphabet
def _fold_char(ch: str) -> str:
    if ch.isspace():
        return " "
    # Zero-width spaces, joiners, BOMs and soft hyphens are invisible, so the chief
    # did not mean them to split "2\u200b50" into two numbers.
    if unicodedata.category(ch) == "Cf":
        return ""
    compat = unicodedata.normalize("NFKC", ch)
    # Only one-to-one compatibility mappings (full-width "２", "／") are wanted;
    # expansions such as "½" → "1⁄2" would invent digits the chief never typed.
    base = compat if len(compat) == 1 else ch
    out: list[str] = []
    for c in unicodedata.normalize("NFD", base.lower()):
        if unicodedata.category(c) in ("Mn", "Me"):
            continue  # tone marks, breve, horn, circumflex, keycap enclosures
        # "đ" has no Unicode decomposition; "ð" (U+00F0) is a common look-alike typo.
        out.append("d" if c in ("đ", "ð") else c)
    return "".join(out)


@dataclass(frozen=True)
class _Folded:
    raw: str
    text: str  # the folded text
    src_start: tuple[int, ...]  # per folded char: index of its raw source character
    src_end: tuple[int, ...]  # per folded char: raw end, including trailing dropped marks

    def original(self, start: int, end: int) -> str:
        """The raw text behind folded span [start, end), NFC-composed for display."""
        if start >= end:
            return ""
        raw = self.raw[self.src_start[start] : self.src_end[end - 1]]
        return unicodedata.normalize("NFC", raw).strip()


_ASCII_SPACES = str.maketrans("\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f", " " * 9)


def _fold(raw: str) -> _Folded:
    if raw.isascii():
        # For ASCII, _fold_char is exactly lower-casing with every space a " ", one
        # character for one: skip the per-character loop (most chiefs type no diacritics).
        positions = tuple(range(len(raw)))
        return _Folded(raw, raw.lower().translate(_ASCII_SPACES), positions,
                       tuple(range(1, len(raw) + 1)))  # fmt: skip
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for i, ch in enumerate(raw):
        folded = _fold_char(ch)
        if not folded:
            # A dropped character (a decomposed tone mark) still belongs to the
            # preceding letter when we cut the original text back out.
            if ends:
                ends[-1] = i + 1
            continue
        for c in folded:
            chars.append(c)
            starts.append(i)
            ends.append(i + 1)
    return _Folded(raw, "".join(chars), tuple(starts), tuple(ends))


# --------------------------------------------------------------------------- vocabulary


class _Role(Enum):
    __hash__ = object.__hash__  # members are singletons; the C hash keeps set checks cheap

    CORRECTION = auto()  # sửa, nhầm
    COMPLETION = auto()  # xong, hoàn thành, kết thúc
    COVID = auto()  # xn, xét nghiệm, test nhanh
    NEGATIVE = auto()  # âm tính, không có ca dương tính
    POSITIVE = auto()  # dương tính N
    VOTERS = auto()  # ct, cử tri: allows a single number as a turnout count
    NOUN = auto()  # người, thành viên: "250 người" says 250 is a count of people
    FILLER = auto()  # words that carry no information for the grammar
    AREA = auto()  # kv, khu vực, tổ: with a number, the area named in the text
    PLACE = auto()  # xã, phường, thị trấn: a commune name follows
    LABEL = auto()  # thôn 3, lần 2, đợt 2: the number after it is a label, not a count
    RISKY = auto()  # khoảng, còn, chưa, ốm, nghìn: the number near it is not a plain count
    OLD = auto()  # "không phải 254": the wrong number being corrected, never stored
    PERIOD = auto()  # sáng, chiều, tối, trưa: the part of the day of a time
    LEAD = auto()  # lúc, vào, đến, tới: a bare 1–2 digit number after it is an hour
    REACHED = auto()  # đạt: a bare number after it may be a percentage
    DATE_WORD = auto()  # ngày: a D/M or D-M after it is a date
    SPOKEN = auto()  # "chín giờ", "hai trăm": a number in words, asked about, never guessed


def _phrases(role: _Role, *texts: str) -> dict[tuple[str, ...], _Role]:
    return {tuple(text.split()): role for text in texts}


# Folded word sequences; the longest match wins ("da xong" before "da").
_PHRASES: dict[tuple[str, ...], _Role] = {
    **_phrases(_Role.CORRECTION, "sua", "sua lai", "xin sua", "xin sua lai", "nham", "em nham",
               "bao nham", "dieu chinh", "dinh chinh"),
    **_phrases(_Role.COMPLETION, "xong", "da xong", "hoan thanh", "hoan tat", "ket thuc",
               "da ket thuc", "da hoan thanh", "xong roi"),
    **_phrases(_Role.COVID, "xn", "xet nghiem", "test", "test nhanh", "xn nhanh",
               "xet nghiem nhanh", "covid", "test covid", "xn covid", "xet nghiem covid",
               "test nhanh covid", "sars cov"),
    **_phrases(_Role.NEGATIVE, "am tinh", "at", "khong co ca duong tinh", "khong ca duong tinh",
               "ko co ca duong tinh", "k co ca duong tinh", "khong co truong hop duong tinh",
               "khong ai duong tinh", "ko ai duong tinh", "deu am tinh", "tat ca am tinh"),
    **_phrases(_Role.POSITIVE, "duong tinh", "dt", "dtinh"),
    **_phrases(_Role.VOTERS, "ct", "cu tri", "c tri", "cu tri di bau", "cu tri da bau",
               "cu tri da di bau", "cu tri tham gia bo phieu", "tham gia bo phieu",
               "cu tri tham gia"),
    **_phrases(_Role.NOUN, "nguoi", "ng", "thanh vien", "tv", "ca", "nguoi da bau"),
    **_phrases(_Role.AREA, "kv", "kvbp", "khu vuc", "khu vuc bo phieu", "khu vuc bau cu",
               "to", "to bau cu", "tbc"),
    **_phrases(_Role.PLACE, "xa", "phuong", "tt", "thi tran", "dac khu", "thi xa"),
    **_phrases(_Role.LABEL, "thon", "ban", "xom", "ap", "lan", "dot", "phong", "to dan pho",
               "tdp", "cum", "doi", "so dien thoai", "sdt", "dt lien he", "zalo", "hom thu",
               "duong", "so nha", "khu", "khu pho", "to dan", "nhom"),
    **_phrases(_Role.RISKY, "khoang", "tam", "chung", "hon", "gan", "gan nhu", "xap xi", "uoc",
               "uoc tinh", "du kien", "con", "chua", "chua bau", "chua di bau", "vang", "om",
               "nghin", "ngan", "k", "tr", "trieu", "tram", "muoi", "chuc", "them", "tang",
               "giam", "bot", "thieu", "duoi", "tren duoi", "hong", "huy", "phieu hong",
               "le", "it nhat", "toi da", "toi thieu", "it", "nhieu", "hop le",
               "khong hop le", "uy quyen", "bau thay", "hom truoc", "hom qua", "phut",
               "phut truoc", "tieng", "phieu", "la phieu", "hom", "hom phieu", "thung phieu",
               "phan tram", "lan luot"),
    **_phrases(_Role.OLD, "khong phai", "chu khong phai", "ko phai", "k phai", "khong phai la",
               "chu ko phai", "thay vi"),
    # "tối" (evening) and "tới" (up to) both fold to "toi": it is a lead-in, and an
    # evening only right after a time ("7 giờ tối").
    **_phrases(_Role.PERIOD, "sang", "chieu", "trua", "buoi sang", "buoi chieu", "buoi toi",
               "buoi trua", "dem"),
    **_phrases(_Role.LEAD, "luc", "vao", "den", "toi", "tinh den", "tinh toi", "vao luc",
               "den luc", "toi luc", "hoi", "tinh den luc"),
    **_phrases(_Role.REACHED, "dat", "ty le", "ti le", "dat ty le", "dat ti le", "tyle"),
    **_phrases(_Role.DATE_WORD, "ngay", "hom nay ngay"),
    # An hour in words ("chín giờ", voice typing): never the arrival time instead.
    **{
        (*word.split(), unit): _Role.SPOKEN
        for word in ("mot", "hai", "ba", "bon", "nam", "sau", "bay", "tam", "chin", "muoi",
                     "muoi mot", "muoi hai", "muoi ba", "muoi bon", "muoi lam", "muoi sau",
                     "muoi bay", "muoi tam", "muoi chin", "hai muoi", "hai muoi mot")
        for unit in ("gio", "h")
    },
    **_phrases(
        _Role.FILLER,
        "bo phieu", "da bau", "di bau", "bau", "co", "da co", "bao cao", "bc", "so", "tong",
        "tong so", "tren tong so", "trong tong so", "trong so", "da", "a", "da di bau",
        "bau cu", "kinh gui", "kinh bao", "bao cao nhanh", "dong chi", "d c", "bcd", "ubnd",
        "ubbc", "bbc", "ban chi dao", "ban bau cu", "em", "anh", "chi", "toi xin", "xin",
        "chao", "xin chao", "nhe", "nha", "roi", "voi", "la", "thi", "va", "cua", "tai",
        "nay", "hom nay", "ngay bau cu", "duoc", "dang", "van", "cam on", "tran trong",
        "thanh vien to", "o", "ah", "vang a", "e", "ak", "oke", "ok", "nhanh", "so lieu",
        "cap nhat", "tinh hinh", "ket qua", "cu the", "nhu sau", "gui", "moi nguoi",
        "ca nha", "thong tin", "hien tai", "hien nay", "tong hop", "truoc", "sau", "nam", "khoa",
        "danh sach", "trong danh sach", "tong cu tri", "tong ct", "tong so cu tri",
    ),
}  # fmt: skip
_MAX_PHRASE = max(len(p) for p in _PHRASES)
_VOCABULARY = frozenset(w for p in _PHRASES for w in p)

# Words that may be glued to the number they introduce ("ct250", "xn16/16", "dt1",
# "luc9h"); "kv05", "kvbp2", "to5" name an area. Any other word glued to digits is read as
# one unknown token ("abc12"), which is asked about.
_GLUE_WORDS = frozenset({"ct", "xn", "dt", "dtinh", "xong", "sua", "luc", "vao", "den"})
_GLUED_AREA = re.compile(r"(kvbp|kv|tbc|to)0*([0-9]{1,3})(?![0-9])")

# The roles that make a line worth reading even when it holds no digit.
_KEYWORD_ROLES = frozenset({_Role.CORRECTION, _Role.COMPLETION, _Role.COVID})

# Words of the grammar (and time units) are labels, never area codes: "xn: 16/16 …",
# "Tổng: 1.250/2.000" and "9h: 250/320" have no prefix.
_NOT_CODES = frozenset({w for p in _PHRASES for w in p} | {"h", "g", "gio", "p", "phut"})


# --------------------------------------------------------------------------- patterns
#
# All patterns run on folded text, where every space is " " and letters are lowercase.

_LETTER = r"[^\W\d_]"
_NOT_LETTER = rf"(?!{_LETTER})"
_SLASH = "/\u2044\u2215"  # "/", fraction slash, division slash
_SLASH_CLASS = f"[{_SLASH}]"

# A thousands group must be exactly three digits, so "9.30" and "1,250" are never
# read as one number: they come out as two numbers and the line is refused.
# The leading group never starts with 0: "05 250" is two numbers, not 5 250.
_DOT_NUMBER = re.compile(r"(?!0)[0-9]{1,3}(?:\.[0-9]{3})+(?![0-9])")
# Space groups: a single space only, and a trailing "100%" is a percentage, not a group.
_SPACE_NUMBER = re.compile(r"(?!0)[0-9]{1,3}(?: [0-9]{3})+(?![0-9])(?!\s*%)")
_PLAIN_NUMBER = re.compile(r"[0-9]+")
_FRACTION_BAR = re.compile(rf"\s*{_SLASH_CLASS}+\s*")  # "250//320" is a typo for one bar
# Up to 18 digits always fits; longer runs are not counts of anything.
_MAX_DIGITS = 18

# "97%" or "62,5%" is the chief's own arithmetic; it never supplies a count.
_PERCENT = re.compile(rf"([0-9]+(?:[.,][0-9]+)?)\s*(?:%|phan tram{_NOT_LETTER})")
# Phone numbers (a sign-off "sđt 0912 345 678") are placed, never counts.
_PHONE = re.compile(r"(?:84|0)[1-9][0-9](?:[ .]?[0-9]){7,8}(?![0-9])")
# "23/5/2021", "15.3.2026", "23-5-21": always a date.
_FULL_DATE = re.compile(r"([0-9]{1,2})([/.\-])([0-9]{1,2})\2([0-9]{4}|[0-9]{2})(?![0-9])")
# "23/5", "23-5", "23.5", "23 tháng 5" after "ngày".
_SHORT_DATE = re.compile(r"([0-9]{1,2})\s*(?:[/.\-]|thang)\s*([0-9]{1,2})(?![0-9])")
# "9.30" (a time) or "23.5" (a date); a third digit would make "1.250" a thousands group.
_DOT_PAIR = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})(?![0-9])(?!\.[0-9])")
# "1.2k", "1,2 nghìn", "1,234": asked about, never read.
_UNCLEAR = re.compile(
    r"[0-9]+[.,][0-9]+\s*(?:k|nghin|ngan|tr|trieu)(?![a-z])|[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])"
)
# "9 rưỡi", "9h rưỡi", "9 giờ rưỡi": half past.
_HALF_PAST = re.compile(rf"([0-9]{{1,2}})\s*(?:(?:gio|h|g)\s*)?ruoi{_NOT_LETTER}")

_MINUTE_SUFFIX = rf"(?:\s*(?:phut|ph|p){_NOT_LETTER}|\s*['’′])?"
# "09:30", "9:30", "9:30h", "9:30'": the hour is the whole digit run (the tokenizer
# only starts at the beginning of a run) and the minutes exactly two digits.
_COLON_TIME = re.compile(
    rf"([0-9]{{1,2}}):([0-9]{{2}})(?![0-9])(?:\s*h{_NOT_LETTER})?{_MINUTE_SUFFIX}"
)
# "9h", "9 giờ", "9g": any digit run, so "123h" is a bad time rather than a count.
_UNIT_TIME = re.compile(rf"([0-9]+)\s*(?:gio|h|g){_NOT_LETTER}")
_SUFFIX = re.compile(_MINUTE_SUFFIX)
_GLUED_MINUTES = re.compile(r"[0-9]+")
_SPACED_MINUTES = re.compile(r"\s+([0-9]{1,2})(?![0-9])")
_HOUR_ONLY = re.compile(r"[0-9]{1,2}(?![0-9])")
# Minutes are only minutes when the digits do not belong to what follows: a fraction
# ("17h 31/320"), a dot-grouped number ("19 giờ 1.643/2.000"), a clock time or another
# hour ("9h 10h"), or a percentage.
_NOT_MINUTES_AFTER = re.compile(
    rf"\s*{_SLASH_CLASS}|[.,][0-9]|:[0-9]|\s*%|\s*(?:gio|h|g){_NOT_LETTER}"
)
_SPACE_GROUP_AFTER = re.compile(r" [0-9]{3}(?![0-9])")

_WORD = re.compile(rf"{_LETTER}+")
_ALNUM_RUN = re.compile(r"[^\W_]+")
_OTHER_DIGITS = re.compile(r"\d+")  # non-ASCII digits (ASCII ones are matched first)

# Segments: ";" (also full-width and the Greek question mark that NFKC maps to ";")
# and every line break str.splitlines() knows.
_SEGMENT_SPLIT = re.compile("[;\uff1b\u037e\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")

_PREFIX = re.compile(r"\s*([a-z0-9][a-z0-9._\-]*)\s*:")
_ASCII_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]*")
_TIME_LIKE_CODE = re.compile(
    r"[0-9]{1,2}(?:h|g|gio)(?:[0-9]{1,2})?(?:p|ph|phut)?|[0-9]{1,2}\.[0-9]{1,2}(?:\.[0-9]{2,4})?"
)
_ALNUM = re.compile(r"[^\W_]")


# --------------------------------------------------------------------------- tokens


class _Kind(Enum):
    __hash__ = object.__hash__  # as for _Role

    NUMBER = auto()
    FRACTION = auto()
    TIME = auto()
    PERCENT = auto()  # checked against the count, never a count
    WORD = auto()  # a grammar word (role set) or an unknown word (role None)
    SLASH = auto()  # a "/" that is not between two numbers
    OTHER = auto()  # anything unreadable that is not punctuation
    AMBIGUOUS = auto()  # digits that read as a time part or as a digit group
    DATE = auto()  # value day, second month, third year (0: none)
    PHONE = auto()  # a phone number: placed, never a count
    AREA = auto()  # the number of an area named in the text ("khu vực 5", "KV05")
    NEGATIVE = auto()  # "-5/320": asked about, never read as 5
    UNCLEAR = auto()  # "1,234", "1.2k", "9.75": asked about


@dataclass(frozen=True)
class _Token:
    kind: _Kind
    start: int  # folded span
    end: int
    value: int = 0  # NUMBER value, FRACTION numerator, TIME hour
    second: int = 0  # FRACTION denominator, TIME minute
    valid: bool = True  # TIME: hour ≤ 23 and minute ≤ 59
    word: str = ""  # WORD: folded text
    role: _Role | None = None  # WORD: its role, None when unknown
    pm: bool = False  # TIME: an hour 1–11 typed without a leading 0 may be the afternoon
    third: int = 0  # DATE: the year, 0 when not written
    fvalue: float = 0.0  # PERCENT: its value


def _may_be_afternoon(hour_digits: str) -> bool:
    """ "6h" may be 18:00; "06h", "12h" and "18h" may not."""
    return not hour_digits.startswith("0") and 1 <= int(hour_digits) <= 11


def _read_number(s: str, pos: int, *, denominator: bool = False) -> tuple[int | None, int] | None:
    """The number starting at `pos` as (value, end); value None when absurdly long."""
    spaced = _SPACE_NUMBER.match(s, pos)
    if denominator and spaced is not None and _FRACTION_BAR.match(s, spaced.end()):
        # "250/320 300/400" is two fractions, not 250 over 320 300 and a stray "/".
        spaced = None
    m = _DOT_NUMBER.match(s, pos) or spaced or _PLAIN_NUMBER.match(s, pos)
    if m is None:
        return None
    digits = m.group().replace(".", "").replace(" ", "")
    return (int(digits) if len(digits) <= _MAX_DIGITS else None), m.end()


def _denominator(s: str, pos: int) -> int | None:
    bar = _FRACTION_BAR.match(s, pos)
    if bar is None:
        return None
    number = _read_number(s, bar.end(), denominator=True)
    return None if number is None else number[0]


def _ambiguous(s: str, start: int) -> _Token:
    """The digits from `start` that can be read two ways, with the fraction they start."""
    group = _SPACE_NUMBER.match(s, start) or _PLAIN_NUMBER.match(s, start)
    end = group.end() if group is not None else start
    bar = _FRACTION_BAR.match(s, end)
    if bar is not None:
        den = _read_number(s, bar.end(), denominator=True)
        if den is not None:
            end = den[1]
    return _Token(_Kind.AMBIGUOUS, start, end)


def _time_reading_ok(s: str, start: int, end: int) -> bool:
    """Whether the 1–2 digits at [start, end), read as minutes (or as the hour after
    "lúc"), can be told apart from a space-grouped number beginning with them.

    "9 giờ 30 250/320" reads as 9:30 and 250/320, or as 9:00 and 30 250/320. When only
    one reading gives a numerator no larger than the denominator we take it (choosing
    between readings, not validating them); otherwise nobody can tell, and the line is
    refused rather than guessed.
    """
    if not _SPACE_GROUP_AFTER.match(s, end):
        return True
    grouped = _SPACE_NUMBER.match(s, start)
    if grouped is None:
        return True  # e.g. "30 250%": the digits after are not a group of ours
    joined = _read_number(s, start)
    split = _read_number(s, end + 1)
    if joined is None or joined[0] is None or split is None or split[0] is None:
        return False
    joined_den = _denominator(s, joined[1])
    split_den = _denominator(s, split[1])
    if joined_den is None or split_den is None:
        return False
    return joined[0] > joined_den and split[0] <= split_den


def _read_unit_time(s: str, m: re.Match[str]) -> tuple[_Token, _Token | None]:
    """A "9h…" / "9 giờ …" time and, when its minutes are ambiguous, the ambiguous part."""
    hour_digits = m.group(1)
    end = m.end()
    minute: int | None = None
    ambiguous: _Token | None = None
    glued = _GLUED_MINUTES.match(s, end)
    if glued is not None:
        # "9h30": glued digits are minutes only when they are 1–2 digits that do not
        # start a fraction or a dot-grouped number ("17h318/320" is 17h + 318/320).
        if len(glued.group()) <= 2 and not _NOT_MINUTES_AFTER.match(s, glued.end()):
            minute = int(glued.group())
            end = glued.end()
    else:
        spaced = _SPACED_MINUTES.match(s, end)
        if spaced is not None and not _NOT_MINUTES_AFTER.match(s, spaced.end()):
            if _time_reading_ok(s, spaced.start(1), spaced.end(1)):
                minute = int(spaced.group(1))
                end = spaced.end()
            else:
                ambiguous = _ambiguous(s, spaced.start(1))
    if minute is not None:
        suffix = _SUFFIX.match(s, end)
        if suffix is not None:
            end = suffix.end()
    hour = int(hour_digits) if len(hour_digits) <= 2 else 99
    minute_value = 0 if minute is None else minute
    valid = hour <= 23 and minute_value <= 59
    time = _Token(
        _Kind.TIME, m.start(), end, value=hour, second=minute_value, valid=valid,
        pm=_may_be_afternoon(hour_digits),
    )  # fmt: skip
    return time, ambiguous


_NEGATIVE_SIGNS = "-\u2212\u2013"  # hyphen, minus, en dash
_LEAD_WORDS = frozenset({"luc", "vao", "den", "toi", "hoi"})
_AREA_TAILS = (
    ("kv",),
    ("kvbp",),
    ("tbc",),
    ("to",),
    ("khu", "vuc"),
    ("to", "bau", "cu"),
    ("to", "bc"),
    ("khu", "vuc", "bo", "phieu"),
    ("khu", "vuc", "bau", "cu"),
)


_AREA_LAST_WORDS = frozenset({tail[-1] for tail in _AREA_TAILS} | {"so"})


def _trailing_words(tokens: list[_Token], limit: int = 5) -> tuple[str, ...]:
    words: list[str] = []
    for token in reversed(tokens[-limit:]):
        if token.kind is not _Kind.WORD:
            break
        words.append(token.word)
    return tuple(reversed(words))


def _after_area_word(tokens: list[_Token]) -> bool:
    """Whether the digits that follow name an area: "khu vực 5", "KVBP số 2", "tổ 6"."""
    if tokens[-1].word not in _AREA_LAST_WORDS:
        return False
    words = _trailing_words(tokens)
    if words[-1:] == ("so",):
        words = words[:-1]
    return any(words[-len(tail) :] == tail for tail in _AREA_TAILS)


def _tokenize(s: str, pos: int) -> list[_Token]:
    tokens: list[_Token] = []
    n = len(s)
    start = pos
    while pos < n:
        ch = s[pos]
        if ch == " ":
            pos += 1
            continue
        if "0" <= ch <= "9":
            new, end = _digit_tokens(s, pos, tokens)
            negative = (
                pos > start
                and s[pos - 1] in _NEGATIVE_SIGNS
                and (pos - 1 == start or s[pos - 2] in " :(,")
            )
            if negative and new[0].kind in (_Kind.NUMBER, _Kind.FRACTION):
                new[0] = _Token(_Kind.NEGATIVE, pos - 1, new[0].end)
            tokens.extend(new)
            pos = end
            continue
        word = _WORD.match(s, pos)
        if word is not None and not word.group().isalpha():  # "½", "²": numbers, not words
            tokens.append(_Token(_Kind.OTHER, pos, word.end()))
            pos = word.end()
        elif word is not None:
            end = word.end()
            if end < n and "0" <= s[end] <= "9" and word.group() not in _GLUE_WORDS:
                area = _GLUED_AREA.match(s, pos)
                if area is not None and area.group(1) == word.group():
                    tokens.append(
                        _Token(_Kind.AREA, pos, area.end(), value=int(area.group(2)),
                               word=area.group())
                    )  # fmt: skip
                    pos = area.end()
                    continue
                run = _ALNUM_RUN.match(s, pos)
                end = run.end() if run is not None else end
                tokens.append(_Token(_Kind.OTHER, pos, end))
            else:
                text = word.group()
                if text not in _VOCABULARY:
                    text = _detelex(text)
                tokens.append(_Token(_Kind.WORD, pos, end, word=text))
            pos = end
        elif ch in _SLASH:
            tokens.append(_Token(_Kind.SLASH, pos, pos + 1))
            pos += 1
        elif (other := _OTHER_DIGITS.match(s, pos)) is not None:
            tokens.append(_Token(_Kind.OTHER, pos, other.end()))
            pos = other.end()
        elif not ch.isascii() and unicodedata.category(ch)[0] == "N":
            tokens.append(_Token(_Kind.OTHER, pos, pos + 1))  # "½", "²": never skipped
            pos += 1
        else:
            pos += 1  # punctuation, symbols, emoji: separators, never content
    return _group_phrases(tokens)


_TELEX_MARKS = re.compile(r"(?<=.)[fj]|(?<=..)[sxr]$|(?<=.)[fsrxj]$")
_TELEX_LETTERS = (("dd", "d"), ("aa", "a"), ("aw", "a"), ("ee", "e"), ("oo", "o"), ("ow", "o"),
                  ("uw", "u"))  # fmt: skip


@functools.lru_cache(maxsize=1 << 12)
def _detelex(word: str) -> str:
    """A word typed in Telex whose marks were not converted ("hoafn thanhf", "ddax", "cur")
    as the plain word, when that is a word of the grammar; otherwise the word unchanged."""
    plain = word
    for typed, letter in _TELEX_LETTERS:
        plain = plain.replace(typed, letter)
    plain = _TELEX_MARKS.sub("", plain, count=1)
    return plain if plain in _VOCABULARY else word


def _date(start: int, end: int, day: int, month: int, year: int = 0) -> _Token | None:
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return None
    if 0 < year < 100:
        year += 2000
    return _Token(_Kind.DATE, start, end, value=day, second=month, third=year)


def _digit_tokens(s: str, pos: int, tokens: list[_Token]) -> tuple[list[_Token], int]:
    """Tokens for the digit run at `pos`: area numbers, phones, dates, times, percentages,
    then counts."""
    previous = tokens[-1] if tokens else None
    previous_word = previous.word if previous is not None and previous.kind is _Kind.WORD else ""
    # What follows the digit run decides which readings are possible: the patterns below
    # are tried only when they can match (the grammar is on the ingest hot path).
    run_end = pos
    n = len(s)
    while run_end < n and "0" <= s[run_end] <= "9":
        run_end += 1
    glued = s[run_end : run_end + 1]
    ahead = run_end
    while ahead < n and s[ahead] == " ":
        ahead += 1
    spaced = s[ahead : ahead + 1]
    punctuated = glued in ("/", ".", "-", ",", ":")

    if previous_word and _after_area_word(tokens):
        digits = _PLAIN_NUMBER.match(s, pos)
        assert digits is not None
        after = digits.end()
        if (
            len(digits.group()) <= 3
            and not _FRACTION_BAR.match(s, after)
            and not _UNIT_TIME.match(s, pos)
            and not _COLON_TIME.match(s, pos)
            and s[after : after + 1] not in (".", ",", "%")
        ):
            return [_Token(_Kind.AREA, pos, after, value=int(digits.group()))], after

    phone = _PHONE.match(s, pos) if s[pos] in "08" and run_end - pos >= 2 else None
    if phone is not None:
        return [_Token(_Kind.PHONE, pos, phone.end())], phone.end()

    full = _FULL_DATE.match(s, pos) if punctuated else None
    if full is not None:
        date = _date(pos, full.end(), int(full.group(1)), int(full.group(3)), int(full.group(4)))
        if date is not None:
            return [date], full.end()

    colon = _COLON_TIME.match(s, pos) if glued == ":" else None
    if colon is not None:
        hour, minute = int(colon.group(1)), int(colon.group(2))
        valid = hour <= 23 and minute <= 59
        token = _Token(
            _Kind.TIME, pos, colon.end(), value=hour, second=minute, valid=valid,
            pm=_may_be_afternoon(colon.group(1)),
        )  # fmt: skip
        return [token], colon.end()

    lettered = spaced in ("h", "g", "r")
    half = _HALF_PAST.match(s, pos) if lettered else None
    if half is not None:
        hour = int(half.group(1))
        token = _Token(
            _Kind.TIME, pos, half.end(), value=hour, second=30, valid=hour <= 23,
            pm=_may_be_afternoon(half.group(1)),
        )  # fmt: skip
        return [token], half.end()

    unit = _UNIT_TIME.match(s, pos) if lettered else None
    if unit is not None:
        time, ambiguous = _read_unit_time(s, unit)
        if ambiguous is None:
            return [time], time.end
        return [time, ambiguous], ambiguous.end

    percent = _PERCENT.match(s, pos) if spaced in ("%", "p") or glued in (".", ",") else None
    if percent is not None:
        stated = float(percent.group(1).replace(",", "."))
        return [_Token(_Kind.PERCENT, pos, percent.end(), fvalue=stated)], percent.end()

    unclear = _UNCLEAR.match(s, pos) if glued in (".", ",") else None
    if unclear is not None:
        return [_Token(_Kind.UNCLEAR, pos, unclear.end())], unclear.end()

    dotted = _DOT_PAIR.match(s, pos) if glued == "." else None
    if dotted is not None:
        first, second = int(dotted.group(1)), int(dotted.group(2))
        end = dotted.end()
        if len(dotted.group(2)) == 2 and first <= 23 and second <= 59 and previous_word != "ngay":
            # "9.30": a time (with an optional "h" or minute mark after it).
            suffix = re.compile(rf"(?:\s*h{_NOT_LETTER})?{_MINUTE_SUFFIX}").match(s, end)
            end = suffix.end() if suffix is not None else end
            token = _Token(
                _Kind.TIME, pos, end, value=first, second=second,
                pm=_may_be_afternoon(dotted.group(1)),
            )  # fmt: skip
            return [token], end
        date = _date(pos, end, first, second)
        if date is not None:
            return [date], end
        return [_Token(_Kind.UNCLEAR, pos, end)], end

    if previous_word in _LEAD_WORDS:
        # "lúc 9": after "lúc"/"vào" a lone 1–2 digit number can only be an hour.
        hour_only = _HOUR_ONLY.match(s, pos)
        if hour_only is not None and not _NOT_MINUTES_AFTER.match(s, hour_only.end()):
            if _time_reading_ok(s, pos, hour_only.end()):
                hour = int(hour_only.group())
                token = _Token(
                    _Kind.TIME, pos, hour_only.end(), value=hour, valid=hour <= 23,
                    pm=_may_be_afternoon(hour_only.group()),
                )  # fmt: skip
                return [token], hour_only.end()
            ambiguous = _ambiguous(s, pos)
            return [ambiguous], ambiguous.end

    if previous_word in ("ngay", "thang"):
        short = _SHORT_DATE.match(s, pos)
        if short is not None:
            date = _date(pos, short.end(), int(short.group(1)), int(short.group(2)))
            if date is not None:
                return [date], short.end()

    number = _read_number(s, pos)
    assert number is not None  # a digit always starts a plain number
    value, end = number
    if value is None:
        return [_Token(_Kind.OTHER, pos, end)], end
    bar = _FRACTION_BAR.match(s, end)
    # "250/ 9h" lacks its list size; the 9 belongs to the time, not under the bar.
    if bar is not None and not (_COLON_TIME.match(s, bar.end()) or _UNIT_TIME.match(s, bar.end())):
        den = _read_number(s, bar.end(), denominator=True)
        if den is not None and den[0] is not None:
            if s[pos:end].isdigit() and s[bar.end() : den[1]].isdigit() and value > den[0]:
                # "23/5": more voted than listed cannot be a count; as a day and a month
                # it is a date. Either way it is never read as 23 voters.
                date = _date(pos, den[1], value, den[0])
                if date is not None:
                    return [date], den[1]
            return [_Token(_Kind.FRACTION, pos, den[1], value=value, second=den[0])], den[1]
    dash = re.compile(r"-([0-9]{1,2})(?![0-9])").match(s, end)
    if dash is not None and s[pos:end].isdigit() and value > int(dash.group(1)):
        date = _date(pos, dash.end(), value, int(dash.group(1)))
        if date is not None:  # "23-5"
            return [date], dash.end()
    return [_Token(_Kind.NUMBER, pos, end, value=value)], end


# Phrase lookup by first word: the sizes to try, longest first.
_PHRASE_SIZES: dict[str, tuple[int, ...]] = {}
for _phrase in _PHRASES:
    _PHRASE_SIZES[_phrase[0]] = tuple(
        sorted({*_PHRASE_SIZES.get(_phrase[0], ()), len(_phrase)}, reverse=True)
    )


def _group_phrases(tokens: list[_Token]) -> list[_Token]:
    """Merge runs of words into grammar phrases ("hoan thanh"), longest first."""
    out: list[_Token] = []
    i = 0
    n = len(tokens)
    while i < n:
        token = tokens[i]
        if token.kind is not _Kind.WORD:
            out.append(token)
            i += 1
            continue
        for size in _PHRASE_SIZES.get(token.word, ()):
            run = tokens[i : i + size]
            if len(run) < size or any(t.kind is not _Kind.WORD for t in run):
                continue
            role = _PHRASES.get(tuple(t.word for t in run))
            if role is not None:
                words = " ".join(t.word for t in run)
                out.append(_Token(_Kind.WORD, token.start, run[-1].end, word=words, role=role))
                i += size
                break
        else:
            out.append(token)  # an unknown word: role None
            i += 1
    return out


# --------------------------------------------------------------------------- one line


_MAX_DETAIL = 40
# Words for the list size: between two numbers they are the fraction bar; before a lone
# number they say it is the list size, not a count ("tổng CT 320").
_LIST_WORDS = frozenset(
    {"tong", "tong so", "danh sach", "trong danh sach", "tong cu tri", "tong ct", "tong so cu tri"}
)
_CONNECTORS = frozenset(
    {"tren", "tren tong so", "trong tong so", "trong so", "tren tong"} | _LIST_WORDS
)
_AFTER_CONNECTOR = frozenset({"tong", "tong so", "so"})
_NUMBER_WORDS = frozenset({"nghin", "ngan", "trieu", "tram", "muoi", "chuc"})
# "trên 250" is "more than 250"; between two numbers it is the fraction bar.
_PHRASES[("tren",)] = _Role.RISKY
_PHRASES[("tren", "tong")] = _Role.FILLER
_PHRASE_SIZES["tren"] = tuple(sorted({*_PHRASE_SIZES.get("tren", ()), 1, 2}, reverse=True))


@dataclass(frozen=True)
class _LineInfo:
    """What every line result shares."""

    index: int
    text: str
    area_code: str | None
    area_number: int | None = None
    area_place: str | None = None

    def unreadable(
        self, reason: UnreadableReason, detail: str | None = None, details: tuple[str, ...] = ()
    ) -> UnreadableLine:
        def clip(text: str) -> str:
            # A 4,000-digit "token" quoted back would push the reply past a chat's message limit.
            return text[: _MAX_DETAIL - 1] + "…" if len(text) > _MAX_DETAIL else text

        return UnreadableLine(
            index=self.index,
            text=self.text,
            area_code=self.area_code,
            area_number=self.area_number,
            area_place=self.area_place,
            reason=reason,
            detail=clip(detail) if detail else None,
            details=tuple(clip(d) for d in details) if len(details) > 1 else (),
        )

    def report(self, kind: ReportKind, correction: bool, **fields: object) -> ParsedReport:
        return ParsedReport(
            index=self.index,
            text=self.text,
            area_code=self.area_code,
            area_number=self.area_number,
            area_place=self.area_place,
            kind=kind,
            is_correction=correction,
            **fields,
        )


@dataclass
class _Reading:
    """A line's tokens while the reader places each number."""

    tokens: list[_Token]
    placed: set[int]  # indexes of tokens that are accounted for (not counts)
    problems: list[tuple[UnreadableReason, _Token]]
    negatives: list[int] = field(default_factory=list)  # "âm tính 16"
    list_sizes: list[_Token] = field(default_factory=list)  # "tổng số cử tri: 320"

    def neighbours(self, i: int, step: int) -> _Token | None:
        """The nearest token from `i` in direction `step`, skipping people nouns."""
        j = i + step
        while 0 <= j < len(self.tokens):
            token = self.tokens[j]
            if not (token.kind is _Kind.WORD and token.role in (_Role.NOUN, _Role.VOTERS)):
                return token
            j += step
        return None


def _merge_fractions(tokens: list[_Token]) -> list[_Token]:
    """ "250 người/320 người", "250 trên tổng số 320", "250 / tổng 320": one fraction."""
    out: list[_Token] = []
    i = 0
    n = len(tokens)
    while i < n:
        token = tokens[i]
        if token.kind is _Kind.NUMBER:
            j = i + 1
            # "250 người đi bầu trên tổng số 320": people nouns and fillers may come between.
            while (
                j < min(n, i + 5)
                and tokens[j].kind is _Kind.WORD
                and tokens[j].role in (_Role.NOUN, _Role.VOTERS, _Role.FILLER)
                and tokens[j].word not in _CONNECTORS
            ):
                j += 1
            bar = tokens[j] if j < n else None
            if bar is not None and (
                bar.kind is _Kind.SLASH or (bar.kind is _Kind.WORD and bar.word in _CONNECTORS)
            ):
                k = j + 1
                while (
                    k < min(n, j + 5)
                    and tokens[k].kind is _Kind.WORD
                    and (tokens[k].word in _AFTER_CONNECTOR or tokens[k].role is _Role.VOTERS)
                ):
                    k += 1
                if k < n and tokens[k].kind is _Kind.NUMBER:
                    den = tokens[k]
                    out.append(
                        _Token(_Kind.FRACTION, token.start, den.end, value=token.value,
                               second=den.value)
                    )  # fmt: skip
                    i = k + 1
                    continue
        out.append(token)
        i += 1
    return out


_PERIOD_SHIFT = {
    # part of the day: (hours it applies to, hours added)
    "sang": (range(0, 12), 0),
    "buoi sang": (range(0, 12), 0),
    "trua": (range(1, 13), 0),
    "buoi trua": (range(1, 13), 0),
    "chieu": (range(1, 12), 12),
    "buoi chieu": (range(1, 12), 12),
    "toi": (range(1, 12), 12),
    "buoi toi": (range(1, 12), 12),
    "dem": (range(1, 12), 12),
}


def _apply_period(time: _Token, period: str) -> _Token:
    """ "2h chiều" is 14:00, "7 giờ tối" 19:00, "12h trưa" 12:00, "9 giờ sáng" 9:00."""
    hours, shift = _PERIOD_SHIFT[period]
    hour = time.value
    if period in ("trua", "buoi trua") and hour <= 2:
        shift = 12  # "1h trưa"
    if hour in hours:
        hour += shift
    elif not (shift and 12 <= hour <= 23):
        return _Token(_Kind.TIME, time.start, time.end, value=hour, second=time.second, valid=False)
    return _Token(
        _Kind.TIME, time.start, time.end, value=hour, second=time.second, valid=time.valid
    )


def _periods(reading: _Reading) -> None:
    tokens = reading.tokens
    for i, token in enumerate(tokens):
        if token.kind is not _Kind.TIME:
            continue
        after = tokens[i + 1] if i + 1 < len(tokens) else None
        if (
            after is not None
            and after.kind is _Kind.WORD
            and (after.role is _Role.PERIOD or after.word == "toi")
        ):
            tokens[i] = _apply_period(token, after.word)
            reading.placed.add(i + 1)
            continue
        j = i - 1
        while j >= 0 and tokens[j].kind is _Kind.WORD and tokens[j].role is _Role.LEAD:
            j -= 1
        if j >= 0 and tokens[j].kind is _Kind.WORD and tokens[j].role is _Role.PERIOD:
            tokens[i] = _apply_period(token, tokens[j].word)


def _is_count(token: _Token) -> bool:
    return token.kind in (_Kind.NUMBER, _Kind.FRACTION)


def _place_numbers(reading: _Reading) -> None:
    """Mark the numbers that are labels or the corrected old number; flag the numbers a
    word makes uncertain ("khoảng 250", "còn 70", "2 cử tri ốm")."""
    tokens = reading.tokens
    for i, token in enumerate(tokens):
        if token.kind is not _Kind.WORD:
            continue
        after = reading.neighbours(i, 1)
        after_i = tokens.index(after) if after is not None else -1
        if token.role in (_Role.LABEL, _Role.OLD) and after is not None and _is_count(after):
            reading.placed.add(after_i)
        elif token.word in _LIST_WORDS and after is not None and after.kind is _Kind.NUMBER:
            reading.placed.add(after_i)  # "tổng CT 320": the list size, never a count
            reading.list_sizes.append(after)
        elif (
            token.word in ("bau cu", "nam", "khoa")
            and after is not None
            and after.kind is _Kind.NUMBER
            and 2000 <= after.value <= 2099
        ):
            reading.placed.add(after_i)  # "bầu cử 2021", "năm 2026": a year
        elif token.role is _Role.CORRECTION and token.word.endswith("nham"):
            if after is not None and after.kind is _Kind.NUMBER:
                others = [t for t in tokens if _is_count(t) and t is not after]
                if others:  # "sửa 9h 245/320 (báo nhầm 254)": the wrong number, not stored
                    reading.placed.add(after_i)
                else:  # "báo nhầm 321": which number is right?
                    reading.problems.append((UnreadableReason.UNPLACED_NUMBER, after))
        elif (
            token.role is _Role.COVID
            and token.word.endswith(("covid", "cov"))
            and after is not None
            and after.kind is _Kind.NUMBER
            and after.value in (19, 2)
        ):
            reading.placed.add(after_i)  # "COVID-19", "SARS-CoV-2"
        elif token.role is _Role.NEGATIVE and any(t.kind is _Kind.FRACTION for t in tokens):
            # "16/16 (âm tính 16, dương tính 0)": the negatives, checked against the tally.
            before = reading.neighbours(i, -1)
            for near in (after, before):
                if near is None or near.kind is not _Kind.NUMBER:
                    continue
                k = tokens.index(near)
                # Not a number of a "dương tính" beside it: "dt 2 âm tính", "1 dương tính".
                if near is before:
                    other = tokens[k - 1] if k > 0 else None
                else:  # "âm tính 16, dương tính 0": "dương tính" has its own number
                    other = tokens[k + 1] if k + 1 < len(tokens) else None
                    has_own = k + 2 < len(tokens) and tokens[k + 2].kind is _Kind.NUMBER
                    other = None if has_own else other
                if other is None or other.role is not _Role.POSITIVE:
                    reading.placed.add(k)
                    reading.negatives.append(near.value)
                    break
        elif token.role is _Role.RISKY:
            before = reading.neighbours(i, -1)
            for near in (after, before):
                if near is not None and (
                    _is_count(near) or near.kind in (_Kind.PERCENT, _Kind.TIME)
                ):  # "khoảng 250", "khoảng 9 giờ"
                    reading.problems.append((UnreadableReason.UNPLACED_NUMBER, token))
                    break
            else:
                if token.word in _NUMBER_WORDS:  # "hai trăm năm mươi"
                    reading.problems.append((UnreadableReason.UNPLACED_NUMBER, token))


# Words that end a commune's name ("xã Bản Lầu báo cáo: …"); other words may be part of it
# ("Tả Van Chư" holds the filler "van").
_PLACE_STOP_ROLES = frozenset(_Role) - {_Role.FILLER, _Role.LABEL}
_PLACE_STOP_WORDS = frozenset(
    {"bc", "em", "anh", "chi", "xin", "kinh", "gui", "da", "a", "nhe", "nha", "roi", "la", "so"}
)


def _in_place_name(token: _Token) -> bool:
    if token.role in _PLACE_STOP_ROLES or token.word in _PLACE_STOP_WORDS:
        return False
    return token.role is None or " " not in token.word


_PLACING_ROLES = frozenset(
    {
        _Role.LABEL,
        _Role.OLD,
        _Role.CORRECTION,
        _Role.RISKY,
        _Role.FILLER,
        _Role.COVID,
        _Role.NEGATIVE,
    }
)
_TROUBLE_KINDS = frozenset(
    {_Kind.OTHER, _Kind.SLASH, _Kind.NEGATIVE, _Kind.UNCLEAR, _Kind.AMBIGUOUS}
)


def _read_line(folded: _Folded, body: int, line: _LineInfo) -> tuple[ParsedLine, _LineInfo]:
    """One report, and the line info in force after it (an area named here carries over)."""
    s = folded.text
    tokens = _tokenize(s, body)
    if any(t.kind is _Kind.SLASH or t.word in _CONNECTORS for t in tokens):
        tokens = _merge_fractions(tokens)

    def shown(token: _Token) -> str:
        return folded.original(token.start, token.end)

    kinds = {t.kind for t in tokens}
    present = {t.role for t in tokens}
    # The area named in the text, and the commune named with it.
    areas = [t for t in tokens if t.kind is _Kind.AREA] if _Kind.AREA in kinds else []
    place_words: list[str] = []
    if areas or _Role.PLACE in present:
        kept: list[_Token] = []
        in_place = False
        for token in tokens:
            if token.kind is _Kind.WORD and token.role is _Role.PLACE:
                in_place = not place_words
                continue
            if in_place and token.kind is _Kind.WORD and _in_place_name(token):
                place_words.append(token.word)
                continue
            in_place = False
            if token.kind is not _Kind.AREA:
                kept.append(token)
        tokens = kept
    if areas:
        # "KV05" typed glued is also tried as a code; "khu vực 5" is a number only.
        glued = folded.original(areas[0].start, areas[0].end) if areas[0].word else None
        place = " ".join(place_words) or None
        line = _LineInfo(line.index, line.text, glued, areas[0].value, place)
    reading = _Reading(tokens, set(), [])
    if len({t.value for t in areas}) > 1:
        reading.problems.append((UnreadableReason.UNPLACED_NUMBER, areas[1]))

    if _Kind.TIME in kinds and (_Role.PERIOD in present or _Role.LEAD in present):
        _periods(reading)
    if present & _PLACING_ROLES:
        _place_numbers(reading)
    roles = [t for i, t in enumerate(tokens) if t.role is not None and i not in reading.placed]

    for token in tokens if (kinds & _TROUBLE_KINDS or _Role.SPOKEN in present) else ():
        if token.kind in (_Kind.OTHER, _Kind.SLASH):
            reading.problems.append((UnreadableReason.UNKNOWN_WORDS, token))
        elif token.kind is _Kind.NEGATIVE:
            reading.problems.append((UnreadableReason.NEGATIVE_NUMBER, token))
        elif token.kind is _Kind.UNCLEAR:
            reading.problems.append((UnreadableReason.UNCLEAR_DIGITS, token))
        elif token.kind is _Kind.AMBIGUOUS:
            reading.problems.append((UnreadableReason.UNREADABLE, token))
        elif token.role is _Role.SPOKEN:
            reading.problems.append((UnreadableReason.UNPLACED_NUMBER, token))

    kind_words = [t for t in roles if t.role in (_Role.COMPLETION, _Role.COVID)]
    results = [t for t in roles if t.role in (_Role.NEGATIVE, _Role.POSITIVE)]
    # "Đã xong XN 16/16 âm tính": the tests are done; one COVID report.
    tests_done = results and any(t.role is _Role.COVID for t in kind_words)
    if tests_done and sum(1 for t in tokens if _is_count(t)) <= 1:
        kind_words = [t for t in kind_words if t.role is _Role.COVID]
    for token in kind_words[1:]:
        if token.role is not kind_words[0].role:
            # "xong … xn …": two reports run together; name the second keyword.
            return line.unreadable(UnreadableReason.UNKNOWN_WORDS, shown(token)), line
    kind = ReportKind.TURNOUT
    if kind_words:
        covid = kind_words[0].role is _Role.COVID
        kind = ReportKind.COVID if covid else ReportKind.COMPLETION
    if results and kind is ReportKind.COMPLETION:
        return line.unreadable(UnreadableReason.UNKNOWN_WORDS, shown(results[0])), line
    if results:
        kind = ReportKind.COVID  # "16/16 âm tính"

    times = [t for t in tokens if t.kind is _Kind.TIME]
    dates = [t for t in tokens if t.kind is _Kind.DATE]
    percents = [t for t in tokens if t.kind is _Kind.PERCENT]
    numeric = [i for i, t in enumerate(tokens) if _is_count(t) and i not in reading.placed]
    correction = any(t.role is _Role.CORRECTION for t in roles)

    has_keyword = any(t.role in _KEYWORD_ROLES for t in roles) or bool(results)
    if not numeric and not times and not percents and not has_keyword and not reading.problems:
        # A greeting, a question, a date or an area on its own: no report here.
        return line.unreadable(UnreadableReason.NO_REPORT), line
    if "?" in s[body:] and not numeric:
        return line.unreadable(UnreadableReason.NO_REPORT), line

    # "dương tính 1" / "1 dương tính" / "1 ca dương tính": the number next to the word is
    # the positives count, and not a count of voters or staff.
    positives: list[int] = []
    missing_result: _Token | None = None
    if kind is ReportKind.COVID:
        for i, token in enumerate(tokens):
            if token.role is not _Role.POSITIVE:
                continue
            for step in (1, -1):
                near = reading.neighbours(i, step)
                k = tokens.index(near) if near is not None else -1
                if near is not None and near.kind is _Kind.NUMBER and k not in positives:
                    if k in reading.placed:
                        continue
                    positives.append(k)
                    break
            else:
                if missing_result is None:
                    missing_result = token
    # "đạt 85": a percentage with its "%" dropped, unless "người"/"cử tri" follows.
    for i, token in enumerate(tokens) if _Role.REACHED in present else ():
        if token.role is _Role.REACHED and i + 1 < len(tokens):
            nxt = tokens[i + 1]
            follows = tokens[i + 2] if i + 2 < len(tokens) else None
            says_people = follows is not None and follows.role in (_Role.NOUN, _Role.VOTERS)
            if nxt.kind is _Kind.NUMBER and nxt.value <= 100 and not says_people:
                reading.problems.append((UnreadableReason.PERCENT_ONLY, nxt))
                reading.placed.add(i + 1)

    counts = [i for i in numeric if i not in positives and i not in reading.placed]
    if len(counts) > 1 and len({(tokens[i].value, tokens[i].second) for i in counts}) == 1:
        counts = counts[:1]  # "16/16 thành viên …, kết quả 16/16 âm tính": the same number
    if len(counts) > 1:
        for i in counts[1:]:
            reading.problems.append((UnreadableReason.TOO_MANY_NUMBERS, tokens[i]))
    if len(positives) > 1:
        reading.problems.append((UnreadableReason.TOO_MANY_NUMBERS, tokens[positives[1]]))
    if len(times) > 1:
        reading.problems.append((UnreadableReason.TOO_MANY_NUMBERS, times[1]))
    if len({(d.value, d.second, d.third) for d in dates}) > 1:
        reading.problems.append((UnreadableReason.UNPLACED_NUMBER, dates[1]))
    if len({p.fvalue for p in percents}) > 1:
        reading.problems.append((UnreadableReason.UNPLACED_NUMBER, percents[1]))

    if reading.problems:
        first = min(reading.problems, key=lambda p: _PROBLEM_ORDER.index(p[0]))
        details = tuple(dict.fromkeys(shown(t) for _, t in reading.problems))
        return line.unreadable(first[0], shown(first[1]) or None, details), line

    for token in times:
        if not token.valid:
            return line.unreadable(UnreadableReason.BAD_TIME, shown(token)), line
    time = dt.time(times[0].value, times[0].second) if times else None
    pm = bool(times) and times[0].pm
    date = None
    if dates:
        d = dates[0]
        date = StatedDate(day=d.value, month=d.second, year=d.third or None)
    count = tokens[counts[0]] if counts else None
    if count is not None and count.kind is _Kind.FRACTION and count.second == 0:
        return line.unreadable(UnreadableReason.ZERO_LIST, shown(count)), line
    stated_list: int | None = None
    if reading.list_sizes:
        # "Đã bầu: 250 … tổng số cử tri: 320" is 250/320; "tổng CT 320" alone is no count.
        first_list = reading.list_sizes[0]
        stated_list = first_list.value
        agrees = count is not None and (count.kind is _Kind.NUMBER or count.second == stated_list)
        if len({t.value for t in reading.list_sizes}) > 1 or not agrees:
            return line.unreadable(UnreadableReason.UNPLACED_NUMBER, shown(first_list)), line
    common: dict[str, object] = {"time": time, "afternoon_possible": pm, "date": date}

    if kind is ReportKind.COVID:
        if count is None:
            return line.unreadable(UnreadableReason.COVID_MISSING_FRACTION), line
        if missing_result is not None:
            return line.unreadable(
                UnreadableReason.COVID_MISSING_RESULT, shown(missing_result)
            ), line
        negative = any(t.role is _Role.NEGATIVE for t in roles)
        if reading.negatives:
            # "16/16 (âm tính 16, dương tính 0)": negatives and positives make the tested.
            found = tokens[positives[0]].value if positives else 0
            if reading.negatives[0] + found != count.value:
                return line.unreadable(
                    UnreadableReason.COVID_CONTRADICTION, str(reading.negatives[0])
                ), line
            negative = found == 0
        if positives:
            value = tokens[positives[0]].value
            if negative and value > 0:
                return line.unreadable(
                    UnreadableReason.COVID_CONTRADICTION, shown(tokens[positives[0]])
                ), line
            result = value
        elif negative:
            result = 0
        else:
            return line.unreadable(UnreadableReason.COVID_MISSING_RESULT), line
        total = count.second if count.kind is _Kind.FRACTION else stated_list
        tally = line.report(
            kind, correction, staff_tested=count.value, staff_total=total, positives=result,
            **common,
        )  # fmt: skip
        return tally, line

    percent = percents[0].fvalue if percents else None
    if count is None:
        if kind is ReportKind.COMPLETION:
            if percent is not None and percent != 100:
                return line.unreadable(UnreadableReason.PERCENT_ONLY, shown(percents[0])), line
            # "xong 12h30": the count may follow; "xong 100%": the whole list.
            return line.report(kind, correction, whole_list=percent == 100, **common), line
        if percents:
            return line.unreadable(UnreadableReason.PERCENT_ONLY, shown(percents[0])), line
        if time is not None or any(t.role in (_Role.VOTERS, _Role.NOUN) for t in roles):
            return line.unreadable(UnreadableReason.MISSING_COUNT), line
        return line.unreadable(UnreadableReason.UNREADABLE), line

    if count.kind is _Kind.FRACTION:
        return line.report(
            kind, correction, voted=count.value, list_size=count.second, percent=percent,
            **common,
        ), line  # fmt: skip
    # A lone number is a count only when something says so: a time, "ct", "người", or
    # a completion keyword. "250" alone (or a phone number) could be anything.
    says_count = time is not None or any(t.role in (_Role.VOTERS, _Role.NOUN) for t in roles)
    if kind is ReportKind.TURNOUT and not says_count and stated_list is None:
        return line.unreadable(UnreadableReason.UNREADABLE), line
    return line.report(
        kind, correction, voted=count.value, list_size=stated_list, percent=percent, **common
    ), line


_PROBLEM_ORDER = [
    UnreadableReason.NEGATIVE_NUMBER,
    UnreadableReason.UNCLEAR_DIGITS,
    UnreadableReason.UNREADABLE,
    UnreadableReason.PERCENT_ONLY,
    UnreadableReason.UNPLACED_NUMBER,
    UnreadableReason.UNKNOWN_WORDS,
    UnreadableReason.TOO_MANY_NUMBERS,
]


# --------------------------------------------------------------------------- messages


def _area_prefix(folded: _Folded) -> tuple[str, int] | None:
    """The area code typed at the start of the line and where the report begins."""
    m = _PREFIX.match(folded.text)
    if m is None:
        return None
    code = m.group(1)
    if code in _NOT_CODES or _TIME_LIKE_CODE.fullmatch(code):
        return None
    after = folded.text[m.end() : m.end() + 1]
    # "09:30 …" is a time and "12345:250" reads as numbers; "12345: 250/320" is a code.
    if code.isdigit() and after.isascii() and after.isdigit():
        return None
    typed = unicodedata.normalize("NFKC", folded.original(m.start(1), m.end(1)))
    # Codes are plain ASCII; "Sáng:" is a word, not an area, and should be reported as one.
    if not _ASCII_CODE.fullmatch(typed):
        return None
    return typed, m.end()


# ",", " - " and ". " split a line into reports only when each side is a whole report.
_SEPARATOR = re.compile(r"\s*,\s*|\s+[-\u2013+&]\s+|\.\s+")


def _is_whole(line: ParsedLine) -> bool:
    """A report that stands on its own beside another one on the same line: a COVID tally,
    or a count with a list size or a time ("Tổng số cử tri: 320" beside "đã bầu: 250" is
    not a report of 320 voters)."""
    if not isinstance(line, ParsedReport):
        return False
    if line.kind == ReportKind.COVID:
        return line.staff_tested is not None
    if line.whole_list:
        return True
    return line.voted is not None and (line.list_size is not None or line.time is not None)


def _split_line(
    folded: _Folded, body: int, info: _LineInfo
) -> list[tuple[ParsedLine, _LineInfo]] | None:
    """`9h 250/320, 10h 290/320`: the reports of one line, or None when it is one report."""
    cuts = [m for m in _SEPARATOR.finditer(folded.text, body) if m.end() > m.start()]
    if not cuts:
        return None
    spans: list[tuple[int, int]] = []
    start = body
    for cut in cuts:
        spans.append((start, cut.start()))
        start = cut.end()
    spans.append((start, len(folded.text)))
    spans = [(a, b) for a, b in spans if b > a and _ALNUM.search(folded.text, a, b)]
    pieces: list[tuple[ParsedLine, _LineInfo]] = []
    pending: int | None = None  # start of pieces waiting to join the next report
    current = info
    for a, b in spans:
        start_at = a if pending is None else pending
        raw_a = folded.src_start[start_at]
        raw_b = folded.src_end[b - 1]
        sub = _fold(folded.raw[raw_a:raw_b])
        text = unicodedata.normalize("NFC", folded.raw[raw_a:raw_b]).strip()
        piece_info = _LineInfo(
            info.index + len(pieces), folded.raw[raw_a:raw_b].strip() or text,
            current.area_code, current.area_number, current.area_place,
        )  # fmt: skip
        result, after = _read_line(sub, 0, piece_info)
        if _is_whole(result):
            pieces.append((result, after))
            current = after
            pending = None
        else:
            pending = start_at
    if pending is not None or len(pieces) < 2:
        return None
    return pieces


def _segment_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    start = 0
    for m in _SEGMENT_SPLIT.finditer(text):
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(text)))
    return spans


def _time_header(
    text: str, spans: list[tuple[int, int]], number: int, info: _LineInfo
) -> tuple[int, int] | None:
    """When segment `number` is only a time ("Tính đến 10h:") and the next one with text is
    a report without a time, (index of that segment, its end): they are one report."""
    head = _fold(text[spans[number][0] : spans[number][1]])
    if ":" not in head.text and not head.text.rstrip().endswith(("h", "gio")):
        return None
    line = _LineInfo(0, "", info.area_code, info.area_number, info.area_place)
    for later in range(number + 1, len(spans)):
        nxt = _fold(text[spans[later][0] : spans[later][1]])
        if not _ALNUM.search(nxt.text):
            continue
        second, _ = _read_line(nxt, 0, line)
        if isinstance(second, ParsedReport) and second.time is None and _is_whole(second):
            return later, spans[later][1]
        return None
    return None


# --------------------------------------------------------------------------- fast path
#
# Most messages are one report in one of a few plain shapes: `250/320 9h`, `KV05: 250/320
# 9h30`, `kv05 xong 320/320 11:30`, `sua 250/320 9h`, `xn 16/16 am tinh`. For those, one
# regex reads what the full grammar would read, in a fraction of its time; anything else
# (or anything the checks below are unsure of) goes to the full grammar.
# tests/test_grammar_fast.py checks, on generated lines and near misses, that every line
# the fast path reads is read exactly as `_parse_full` reads it.

_FAST_LINE = re.compile(
    r" *(?:(?P<prefix>[a-z0-9][a-z0-9._\-]*) *: *"
    r"|(?P<glued>(?:kvbp|kv|tbc|to)0*(?P<area>[0-9]{1,3})) +)?"
    r"(?:(?P<word>xong|sua|xn) +)?"
    r"(?P<num>[1-9][0-9]{0,5}|0)/(?P<den>[1-9][0-9]{1,5})"
    r"(?P<negative> +am +tinh)?"
    r"(?: +(?P<hour>[0-9]{1,2})(?:h(?P<minute>[0-9]{2})?|:(?P<colon>[0-9]{2})))?"
    r" *",
    re.IGNORECASE | re.ASCII,
)
# A list below 13 could be a month ("23/5" is a date); a real list never is.
_FAST_MIN_LIST = 13


def _fast_parse(text: str) -> list[ParsedLine] | None:
    """The message read by the fast path, or None when it is not one of its shapes."""
    m = _FAST_LINE.fullmatch(text)
    if m is None:
        return None
    num, den, code, glued = m.group("num", "den", "prefix", "glued")
    word, hour_digits = m.group("word", "hour")
    list_size = int(den)
    if list_size < _FAST_MIN_LIST:
        return None
    area_number: int | None = None
    if code is not None:
        folded_code = code.lower()
        if folded_code in _NOT_CODES or _TIME_LIKE_CODE.fullmatch(folded_code):
            return None
        after = text[text.index(":") + 1 : text.index(":") + 2]
        if code.isdigit() and after.isdigit():
            return None
    elif glued is not None:
        code = glued
        area_number = int(m.group("area"))
    word = word.lower() if word is not None else None
    time: dt.time | None = None
    pm = False
    if hour_digits is not None:
        hour = int(hour_digits)
        minute_digits = m.group("minute") or m.group("colon")
        minute = int(minute_digits) if minute_digits is not None else 0
        if hour > 23 or minute > 59:
            return None
        time = dt.time(hour, minute)
        pm = _may_be_afternoon(hour_digits)
    stripped = text.strip()
    if m.group("negative") is not None:
        if word == "xong":
            return None
        report = ParsedReport(
            index=0, text=stripped, area_code=code, area_number=area_number, area_place=None,
            kind=ReportKind.COVID, is_correction=word == "sua", staff_tested=int(num),
            staff_total=list_size, positives=0, time=time, afternoon_possible=pm, date=None,
        )  # fmt: skip
        return [report]
    if word == "xn":
        return None
    report = ParsedReport(
        index=0, text=stripped, area_code=code, area_number=area_number, area_place=None,
        kind=ReportKind.COMPLETION if word == "xong" else ReportKind.TURNOUT,
        is_correction=word == "sua", voted=int(num), list_size=list_size, percent=None,
        time=time, afternoon_possible=pm, date=None,
    )  # fmt: skip
    return [report]


def parse_message(text: str) -> list[ParsedLine]:
    """Read every report of a chief's message, in order (see `_parse_full`); the most
    common shapes through a fast path that reads them the same way."""
    return _fast_parse(text) or _parse_full(text)


def _parse_full(text: str) -> list[ParsedLine]:
    """Read every report of a chief's message, in order.

    Segments with no letter or digit (empty lines, "---", a lone emoji) are skipped
    and do not count for `index`. A segment holding only an area prefix ("KV05:") or an
    area named in words ("Tổ 6 TT Mường Khương:") sets the area for the report that
    follows it; if none does, it is returned as unreadable. A line that holds no report
    (a greeting, a question) comes back as `NO_REPORT`. Pure function: never raises,
    does no I/O.
    """
    lines: list[ParsedLine] = []
    info = _LineInfo(0, "", None)
    # A prefix-only segment waiting for its report, and what it is if none comes: a bare
    # "KV05:" is unreadable, an area named in words ("Tổ 6 TT Mường Khương") no report.
    header: tuple[_LineInfo, str, UnreadableReason] | None = None

    def add_header_as_unreadable() -> None:
        if header is not None:
            head, raw, reason = header
            lines.append(
                _LineInfo(len(lines), raw, head.area_code, head.area_number, head.area_place)
                .unreadable(reason)
            )  # fmt: skip

    spans = _segment_spans(text)
    skip_to = -1
    for number, (seg_start, seg_end) in enumerate(spans):
        if number <= skip_to:
            continue
        segment = text[seg_start:seg_end]
        folded = _fold(segment)
        if not _ALNUM.search(folded.text):
            continue
        body = 0
        prefix = _area_prefix(folded)
        if prefix is not None:
            add_header_as_unreadable()
            header = None
            code, body = prefix
            info = _LineInfo(0, "", code)
            if not _ALNUM.search(folded.text, body):
                header = (info, segment.strip(), UnreadableReason.UNREADABLE)
                continue
        line = _LineInfo(len(lines), segment.strip(), info.area_code, info.area_number,
                         info.area_place)  # fmt: skip
        result, after = _read_line(folded, body, line)
        if isinstance(result, UnreadableLine) and result.reason is UnreadableReason.MISSING_COUNT:
            joined = _time_header(text, spans, number, line)
            if joined is not None:
                # "Tính đến 10h:" on its own line, the count on the next: one report.
                skip_to, seg_end = joined
                segment = text[seg_start:seg_end]
                folded = _fold(segment)
                line = _LineInfo(len(lines), segment.strip(), line.area_code,
                                 line.area_number, line.area_place)  # fmt: skip
                result, after = _read_line(folded, body, line)
        named_here = after.area_number is not None and after != line
        if (
            isinstance(result, UnreadableLine)
            and result.reason is UnreadableReason.NO_REPORT
            and named_here
        ):
            # "KV 3 xã Bản Lầu báo cáo:": the area of the reports that follow.
            add_header_as_unreadable()
            info = _LineInfo(0, "", after.area_code, after.area_number, after.area_place)
            header = (info, segment.strip(), UnreadableReason.NO_REPORT)
            continue
        if isinstance(result, UnreadableLine) and result.reason in (
            UnreadableReason.TOO_MANY_NUMBERS, UnreadableReason.UNKNOWN_WORDS
        ):  # fmt: skip
            split = _split_line(folded, body, line)
            if split is not None:
                header = None
                for piece, piece_after in split:
                    lines.append(piece.model_copy(update={"index": len(lines)}))
                    info = piece_after
                continue
        header = None
        lines.append(result)
        info = after
    add_header_as_unreadable()
    return _fragments_as_one(text, lines)


def _fragments_as_one(text: str, lines: list[ParsedLine]) -> list[ParsedLine]:
    """A report written over several lines, none whole on its own ("Tổng số cử tri: 320" /
    "Đã bầu: 250" / "Lúc 9h"): the message read as one line, when that is one whole report."""
    fragments = [
        line
        for line in lines
        if isinstance(line, UnreadableLine) and line.reason is not UnreadableReason.NO_REPORT
    ]
    if len(fragments) < 2 or any(isinstance(line, ParsedReport) for line in lines):
        return lines
    folded = _fold(text.replace(";", " "))
    body = 0
    code = None
    prefix = _area_prefix(folded)
    if prefix is not None:
        code, body = prefix
    whole, _ = _read_line(folded, body, _LineInfo(0, text.strip(), code))
    return [whole] if _is_whole(whole) else lines


# --------------------------------------------------------------------------- shared
#
# The counting-record grammar (bot/results/grammar.py) reads text the way reports are read:
# the same folding, and numbers written `1.250` or `1250`. It never takes a space as a
# thousands separator (`1 250` would collide with a list of votes), so it gets its own entry.

Folded = _Folded
fold = _fold


def read_grouped_number(s: str, pos: int) -> tuple[int | None, int] | None:
    """The number at `pos` of folded text `s`, written `1.250` or `1250` but never `1 250`,
    as (value, end); value None when it is absurdly long; None when no digit is at `pos`."""
    m = _DOT_NUMBER.match(s, pos) or _PLAIN_NUMBER.match(s, pos)
    if m is None:
        return None
    digits = m.group().replace(".", "")
    return (int(digits) if len(digits) <= _MAX_DIGITS else None), m.end()
