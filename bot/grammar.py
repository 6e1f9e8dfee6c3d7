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
from dataclasses import dataclass
from enum import Enum, auto

from bot.reports import (
    ParsedLine,
    ParsedReport,
    ReportKind,
    UnreadableLine,
    UnreadableReason,
)

__all__ = ["parse_message"]


# --------------------------------------------------------------------------- folding
#
# The grammar reads a "folded" copy of each line: compatibility forms unified (full-width
# digits), lowercase, diacritics stripped, đ→d, every kind of space a plain space and
# invisible format characters dropped. Each folded character remembers which raw
# characters it came from, so the tokens we report (`detail`, `area_code`) can be shown
# as the chief typed them.


@functools.lru_cache(maxsize=4096)  # messages reuse a small alphabet
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
    CORRECTION = auto()  # sửa
    COMPLETION = auto()  # xong, hoàn thành, kết thúc
    COVID = auto()  # xn, xét nghiệm
    NEGATIVE = auto()  # âm tính
    POSITIVE = auto()  # dương tính N
    VOTERS = auto()  # ct, cử tri: allows a single number as a turnout count
    FILLER = auto()  # words that carry no information for the grammar
    AREA = auto()  # "khu vực"/"kv" outside a prefix: known, but refused (see below)


# Folded word sequences; the longest match wins ("da xong" before "da").
_PHRASES: dict[tuple[str, ...], _Role] = {
    ("sua",): _Role.CORRECTION,
    ("sua", "lai"): _Role.CORRECTION,  # "sửa lại", the everyday way to say it
    ("xong",): _Role.COMPLETION,
    ("da", "xong"): _Role.COMPLETION,
    ("hoan", "thanh"): _Role.COMPLETION,
    ("hoan", "tat"): _Role.COMPLETION,
    ("ket", "thuc"): _Role.COMPLETION,
    ("xn",): _Role.COVID,
    ("xet", "nghiem"): _Role.COVID,
    ("am", "tinh"): _Role.NEGATIVE,
    ("duong", "tinh"): _Role.POSITIVE,
    ("dt",): _Role.POSITIVE,
    ("dtinh",): _Role.POSITIVE,
    ("ct",): _Role.VOTERS,
    ("cu", "tri"): _Role.VOTERS,
    ("luc",): _Role.FILLER,
    ("vao",): _Role.FILLER,
    ("den",): _Role.FILLER,  # "đến 9h: 250/320", up to 9 o'clock
    ("bo", "phieu"): _Role.FILLER,  # "kết thúc bỏ phiếu lúc 11h45"
    ("da", "bau"): _Role.FILLER,
    ("di", "bau"): _Role.FILLER,  # "đã đi bầu", the usual phrase for "have voted"
    ("bau",): _Role.FILLER,
    ("co",): _Role.FILLER,
    ("nguoi",): _Role.FILLER,
    ("khu", "vuc"): _Role.AREA,
    ("kv",): _Role.AREA,
    ("bao", "cao"): _Role.FILLER,
    ("bc",): _Role.FILLER,
    ("so",): _Role.FILLER,
    ("tong",): _Role.FILLER,
    ("dat",): _Role.FILLER,
    # "đã" (already) and the polite particles "dạ" / "ạ" that open and close a
    # message to a superior; all three fold to these and say nothing about numbers.
    ("da",): _Role.FILLER,
    ("a",): _Role.FILLER,
}
_MAX_PHRASE = max(len(p) for p in _PHRASES)

# "khu vực"/"kv" are deliberately not filler: outside a prefix they come with an area
# number ("khu vực 5 250/320") that would otherwise merge into the count as "5 250".
# They are refused as unknown words, so the chief is asked for the "KV05: …" form.

# Words that may be glued to the number they introduce ("ct250", "xn16/16", "dt1",
# "luc9h"). Any other word glued to digits is read as one unknown token ("KV05").
_GLUE_WORDS = frozenset({"ct", "xn", "dt", "dtinh", "xong", "sua", "luc", "vao"})

# The roles that make a line worth reading even when it holds no digit.
_KEYWORD_ROLES = frozenset({_Role.CORRECTION, _Role.COMPLETION, _Role.COVID, _Role.VOTERS})

# Time-of-day filler words after which a bare 1–2 digit number is an hour ("lúc 9").
_TIME_WORDS = frozenset({"luc", "vao"})

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
_FRACTION_BAR = re.compile(rf"\s*{_SLASH_CLASS}\s*")
# Up to 18 digits always fits; longer runs are not counts of anything.
_MAX_DIGITS = 18

# "97%" or "62,5%" is the chief's own arithmetic; it never supplies a count.
_PERCENT = re.compile(r"[0-9]+(?:[.,][0-9]+)?\s*%")

_MINUTE_SUFFIX = rf"(?:\s*(?:phut|p){_NOT_LETTER}|\s*['’′])?"
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
    rf"\s*{_SLASH_CLASS}|\.[0-9]{{3}}(?![0-9])|:[0-9]|\s*%|\s*(?:gio|h|g){_NOT_LETTER}"
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
_TIME_LIKE_CODE = re.compile(r"[0-9]{1,2}(?:h|g|gio)(?:[0-9]{1,2})?(?:p|phut)?")
_ALNUM = re.compile(r"[^\W_]")


# --------------------------------------------------------------------------- tokens


class _Kind(Enum):
    NUMBER = auto()
    FRACTION = auto()
    TIME = auto()
    PERCENT = auto()  # ignored
    WORD = auto()  # a grammar word (role set) or an unknown word (role None)
    SLASH = auto()  # a "/" that is not between two numbers
    OTHER = auto()  # anything unreadable that is not punctuation
    AMBIGUOUS = auto()  # digits that read as a time part or as a digit group


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


def _read_number(s: str, pos: int, *, denominator: bool = False) -> tuple[int | None, int] | None:
    """The number starting at `pos` as (value, end); value None when absurdly long."""
    spaced = _SPACE_NUMBER.match(s, pos)
    if denominator and spaced is not None and _FRACTION_BAR.match(s, spaced.end()):
        # "250/320 300/400" is two fractions, not 250 over 320 300 and a stray "/".
        spaced = None
    m = _DOT_NUMBER.match(s, pos) or spaced or _PLAIN_NUMBER.match(s, pos)
    if m is None:
        return None
    digits = re.sub("[^0-9]", "", m.group())
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
    time = _Token(_Kind.TIME, m.start(), end, value=hour, second=minute_value, valid=valid)
    return time, ambiguous


def _tokenize(s: str, pos: int) -> list[_Token]:
    tokens: list[_Token] = []
    n = len(s)
    while pos < n:
        ch = s[pos]
        if ch == " ":
            pos += 1
            continue
        previous = tokens[-1] if tokens else None
        if "0" <= ch <= "9":
            new, pos = _digit_tokens(s, pos, previous)
            tokens.extend(new)
            continue
        word = _WORD.match(s, pos)
        if word is not None:
            end = word.end()
            if end < n and "0" <= s[end] <= "9" and word.group() not in _GLUE_WORDS:
                run = _ALNUM_RUN.match(s, pos)
                end = run.end() if run is not None else end
                tokens.append(_Token(_Kind.OTHER, pos, end))
            else:
                tokens.append(_Token(_Kind.WORD, pos, end, word=word.group()))
            pos = end
        elif ch in _SLASH:
            tokens.append(_Token(_Kind.SLASH, pos, pos + 1))
            pos += 1
        elif (other := _OTHER_DIGITS.match(s, pos)) is not None:
            tokens.append(_Token(_Kind.OTHER, pos, other.end()))
            pos = other.end()
        else:
            pos += 1  # punctuation, symbols, emoji: separators, never content
    return _group_phrases(tokens)


def _digit_tokens(s: str, pos: int, previous: _Token | None) -> tuple[list[_Token], int]:
    """Tokens for the digit run at `pos` (times first, then percentages, then counts)."""
    colon = _COLON_TIME.match(s, pos)
    if colon is not None:
        hour, minute = int(colon.group(1)), int(colon.group(2))
        valid = hour <= 23 and minute <= 59
        token = _Token(_Kind.TIME, pos, colon.end(), value=hour, second=minute, valid=valid)
        return [token], colon.end()

    unit = _UNIT_TIME.match(s, pos)
    if unit is not None:
        time, ambiguous = _read_unit_time(s, unit)
        if ambiguous is None:
            return [time], time.end
        return [time, ambiguous], ambiguous.end

    if previous is not None and previous.kind is _Kind.WORD and previous.word in _TIME_WORDS:
        # "lúc 9": after "lúc"/"vào" a lone 1–2 digit number can only be an hour.
        hour_only = _HOUR_ONLY.match(s, pos)
        if hour_only is not None and not _NOT_MINUTES_AFTER.match(s, hour_only.end()):
            if _time_reading_ok(s, pos, hour_only.end()):
                hour = int(hour_only.group())
                token = _Token(_Kind.TIME, pos, hour_only.end(), value=hour, valid=hour <= 23)
                return [token], hour_only.end()
            ambiguous = _ambiguous(s, pos)
            return [ambiguous], ambiguous.end

    percent = _PERCENT.match(s, pos)
    if percent is not None:
        return [_Token(_Kind.PERCENT, pos, percent.end())], percent.end()

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
            return [_Token(_Kind.FRACTION, pos, den[1], value=value, second=den[0])], den[1]
    return [_Token(_Kind.NUMBER, pos, end, value=value)], end


def _group_phrases(tokens: list[_Token]) -> list[_Token]:
    """Merge runs of words into grammar phrases ("hoan thanh"), longest first."""
    out: list[_Token] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.kind is not _Kind.WORD:
            out.append(token)
            i += 1
            continue
        for size in range(_MAX_PHRASE, 0, -1):
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


@dataclass(frozen=True)
class _LineInfo:
    """What every line result shares."""

    index: int
    text: str
    area_code: str | None

    def unreadable(self, reason: UnreadableReason, detail: str | None = None) -> UnreadableLine:
        if detail is not None and len(detail) > _MAX_DETAIL:
            # A 4,000-digit "token" quoted back would push the reply past Telegram's limit.
            detail = detail[: _MAX_DETAIL - 1] + "…"
        return UnreadableLine(
            index=self.index,
            text=self.text,
            area_code=self.area_code,
            reason=reason,
            detail=detail or None,
        )

    def report(
        self,
        kind: ReportKind,
        correction: bool,
        time: dt.time | None,
        *,
        voted: int | None = None,
        list_size: int | None = None,
        staff_tested: int | None = None,
        staff_total: int | None = None,
        positives: int | None = None,
    ) -> ParsedReport:
        return ParsedReport(
            index=self.index,
            text=self.text,
            area_code=self.area_code,
            kind=kind,
            is_correction=correction,
            voted=voted,
            list_size=list_size,
            time=time,
            staff_tested=staff_tested,
            staff_total=staff_total,
            positives=positives,
        )


def _is_unknown(token: _Token, kind: ReportKind) -> bool:
    if token.kind in (_Kind.SLASH, _Kind.OTHER):
        return True
    if token.kind is not _Kind.WORD:
        return False
    if token.role is None or token.role is _Role.AREA:
        return True
    # Test results only make sense after "xn"; "ct" makes no sense there.
    if token.role in (_Role.NEGATIVE, _Role.POSITIVE):
        return kind is not ReportKind.COVID
    return token.role is _Role.VOTERS and kind is ReportKind.COVID


def _read_line(folded: _Folded, body: int, line: _LineInfo) -> ParsedLine:
    tokens = _tokenize(folded.text, body)

    def shown(token: _Token) -> str:
        return folded.original(token.start, token.end)

    roles = [t for t in tokens if t.role is not None]
    has_digit = any("0" <= c <= "9" for c in folded.text[body:])
    if not has_digit and not any(t.role in _KEYWORD_ROLES for t in roles):
        return line.unreadable(UnreadableReason.UNREADABLE)

    kind_words = [t for t in roles if t.role in (_Role.COMPLETION, _Role.COVID)]
    for token in kind_words[1:]:
        if token.role is not kind_words[0].role:
            # "xong … xn …": two reports run together; name the second keyword.
            return line.unreadable(UnreadableReason.UNKNOWN_WORDS, shown(token))
    kind = ReportKind.TURNOUT
    if kind_words:
        covid = kind_words[0].role is _Role.COVID
        kind = ReportKind.COVID if covid else ReportKind.COMPLETION

    for token in tokens:
        if _is_unknown(token, kind):
            return line.unreadable(UnreadableReason.UNKNOWN_WORDS, shown(token))
    for token in tokens:
        if token.kind is _Kind.AMBIGUOUS:
            return line.unreadable(UnreadableReason.UNREADABLE, shown(token))

    times = [t for t in tokens if t.kind is _Kind.TIME]
    for token in times:
        if not token.valid:
            return line.unreadable(UnreadableReason.BAD_TIME, shown(token))
    if len(times) > 1:
        return line.unreadable(UnreadableReason.TOO_MANY_NUMBERS, shown(times[1]))
    time = dt.time(times[0].value, times[0].second) if times else None

    # "dương tính 1" / "1 dương tính": the number right next to the word (punctuation
    # aside) is the positives count, and not a count of voters or staff.
    positives: list[_Token] = []
    missing_result: _Token | None = None
    if kind is ReportKind.COVID:
        for i, token in enumerate(tokens):
            if token.role is not _Role.POSITIVE:
                continue
            after = tokens[i + 1] if i + 1 < len(tokens) else None
            before = tokens[i - 1] if i > 0 else None
            if after is not None and after.kind is _Kind.NUMBER and after not in positives:
                positives.append(after)
            elif before is not None and before.kind is _Kind.NUMBER and before not in positives:
                positives.append(before)
            elif missing_result is None:
                missing_result = token

    counts = [t for t in tokens if t.kind in (_Kind.NUMBER, _Kind.FRACTION) and t not in positives]
    if len(counts) > 1:
        return line.unreadable(UnreadableReason.TOO_MANY_NUMBERS, shown(counts[1]))
    if len(positives) > 1:
        return line.unreadable(UnreadableReason.TOO_MANY_NUMBERS, shown(positives[1]))
    count = counts[0] if counts else None
    if count is not None and count.kind is _Kind.FRACTION and count.second == 0:
        return line.unreadable(UnreadableReason.ZERO_LIST, shown(count))

    correction = any(t.role is _Role.CORRECTION for t in roles)

    if kind is ReportKind.COVID:
        if count is None or count.kind is not _Kind.FRACTION:
            detail = shown(count) if count is not None else None
            return line.unreadable(UnreadableReason.COVID_MISSING_FRACTION, detail)
        if missing_result is not None:
            return line.unreadable(UnreadableReason.COVID_MISSING_RESULT, shown(missing_result))
        negative = any(t.role is _Role.NEGATIVE for t in roles)
        if positives:
            if negative and positives[0].value > 0:
                return line.unreadable(UnreadableReason.COVID_CONTRADICTION, shown(positives[0]))
            result = positives[0].value
        elif negative:
            result = 0
        else:
            return line.unreadable(UnreadableReason.COVID_MISSING_RESULT)
        return line.report(
            kind,
            correction,
            time,
            staff_tested=count.value,
            staff_total=count.second,
            positives=result,
        )

    if count is None:
        if kind is ReportKind.COMPLETION:
            return line.report(kind, correction, time)  # "xong 12h30": count may follow
        if time is not None or any(t.role is _Role.VOTERS for t in roles):
            return line.unreadable(UnreadableReason.MISSING_COUNT)
        return line.unreadable(UnreadableReason.UNREADABLE)

    if count.kind is _Kind.FRACTION:
        return line.report(kind, correction, time, voted=count.value, list_size=count.second)
    # A lone number is a count only when something says so: a time, "ct", or a
    # completion keyword. "250" alone (or a phone number) could be anything.
    says_count = time is not None or any(t.role is _Role.VOTERS for t in roles)
    if kind is ReportKind.TURNOUT and not says_count:
        return line.unreadable(UnreadableReason.UNREADABLE)
    return line.report(kind, correction, time, voted=count.value)


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


def parse_message(text: str) -> list[ParsedLine]:
    """Read every report of a chief's message, in order.

    Segments with no letter or digit (empty lines, "---", a lone emoji) are skipped
    and do not count for `index`. A segment holding only an area prefix ("KV05:")
    sets the area for the report that follows it; if none does, it is returned as
    unreadable. Pure function: never raises, does no I/O.
    """
    lines: list[ParsedLine] = []
    area: str | None = None
    header: tuple[str, str] | None = None  # a prefix-only segment waiting for its report

    def add_header_as_unreadable() -> None:
        if header is not None:
            code, raw = header
            lines.append(_LineInfo(len(lines), raw, code).unreadable(UnreadableReason.UNREADABLE))

    for segment in _SEGMENT_SPLIT.split(text):
        folded = _fold(segment)
        if not _ALNUM.search(folded.text):
            continue
        body = 0
        prefix = _area_prefix(folded)
        if prefix is not None:
            add_header_as_unreadable()
            header = None
            area, body = prefix
            if not _ALNUM.search(folded.text, body):
                header = (area, segment.strip())
                continue
        header = None
        line = _LineInfo(len(lines), segment.strip(), area)
        lines.append(_read_line(folded, body, line))
    add_header_as_unreadable()
    return lines
