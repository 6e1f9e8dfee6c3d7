"""Counting-record grammar: one chat message into a parsed counting record (RESULTS.md).

A record starts with ``kq`` / ``kết quả`` and the ballot (``KQ QH``, ``kết quả hđnd xã``),
optionally the area (``KQ QH KV05``, ``KQ QH KV05:``, ``KV05: KQ QH``) and ``sửa`` before it
for a correction. Then fields, each a label and a number (``cử tri 1.250``, ``hl 1220``),
separated by lines, ``,`` or ``;``; the votes in ballot order (``1) 950 2) 870``,
``1-950``, ``1:950``, bare ``950 870 640``, or one per line); and optionally the sorted valid
ballots (``loại 1: 120 loại 2: 300``).

Labels are read case- and diacritic-insensitively (the turnout grammar's folding), numbers
as in turnout reports (``1.250`` or ``1250``) but never with a space as the thousands
separator, which would collide with a list of votes.

The grammar only *reads*, and strictly: a word it does not know, a number where none belongs
or digits that could be read two ways make the message unreadable, with the reason and the
part of the message, as typed. Whether the numbers add up is for ``bot/results/checks.py``;
the words of the answers are in ``bot/results/texts.py``.

Entry points: :func:`parse_record` (``None`` when the message is not a counting record at
all), :func:`is_confirmation`, and :func:`write_record` (a record as a chief would type it:
the demo's chiefs and the tests).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from enum import Enum, StrEnum, auto

from bot.results.model import Ballot
from bot.turnout.grammar import Folded, fold, read_grouped_number

__all__ = [
    "MAX_SORTED_KIND",
    "REQUIRED_FIELDS",
    "ParsedRecord",
    "RecordField",
    "UnreadableReason",
    "UnreadableRecord",
    "VoteForm",
    "WriteStyle",
    "is_confirmation",
    "parse_record",
    "write_record",
]


class RecordField(StrEnum):
    """A labelled figure of the record; the values are `ParsedRecord`'s (and
    `bot.results.model.ResultRecord`'s) attribute names."""

    REGISTERED_VOTERS = "registered_voters"  # cử tri (optional)
    VOTED = "voted"  # đã bầu
    ISSUED = "issued"  # phát ra
    RETURNED = "returned"  # thu vào
    VALID = "valid"  # hợp lệ
    INVALID = "invalid"  # không hợp lệ


REQUIRED_FIELDS = (
    RecordField.VOTED,
    RecordField.ISSUED,
    RecordField.RETURNED,
    RecordField.VALID,
    RecordField.INVALID,
)


class UnreadableReason(StrEnum):
    """Why a counting record could not be read; bot/results/texts.py words each one."""

    UNKNOWN_BALLOT = "unknown_ballot"  # `kq` without qh / tỉnh / huyện / xã
    TWO_AREAS = "two_areas"  # `KV05: KQ QH KV06`
    UNKNOWN_WORD = "unknown_word"  # a word that is no label
    UNEXPECTED = "unexpected"  # a sign (`%`, `/`, `+`, a stray `)`) where none belongs
    FIELD_WITHOUT_NUMBER = "field_without_number"  # `hợp lệ` (or `loại 2`) with no number
    DUPLICATE_FIELD = "duplicate_field"  # `hl 1220 … hl 1221`
    MISSING_FIELDS = "missing_fields"  # a required field is not in the message
    SPACE_IN_NUMBER = "space_in_number"  # `cử tri 1 250`
    STRAY_NUMBER = "stray_number"  # a second number after a field's (`khl 18 950`)
    UNCLEAR_NUMBER = "unclear_number"  # `1,250`, `12.5`, `1. 950`: digits read two ways
    NUMBER_TOO_LONG = "number_too_long"  # more digits than any count has
    VOTE_OUT_OF_ORDER = "vote_out_of_order"  # `1) 950 3) 640`: not 1, 2, 3 … in order
    MIXED_VOTE_FORMS = "mixed_vote_forms"  # `1) 950 870`: numbered and bare votes together


@dataclass(frozen=True, slots=True)
class ParsedRecord:
    """One counting record as the message states it (nothing checked yet)."""

    ballot: Ballot
    voted: int
    issued: int
    returned: int
    valid: int
    invalid: int
    votes: tuple[int, ...]  # in ballot order: votes[0] is candidate 1
    registered_voters: int | None = None  # `cử tri`, when stated
    # `loại k`, when given: loai[k - 1] valid ballots kept k names (a kind not stated is 0)
    loai: tuple[int, ...] | None = None
    area_code: str | None = None  # as typed
    is_correction: bool = False

    def value(self, name: RecordField) -> int | None:
        """The figure of one field (None: `cử tri` not stated)."""
        figure: int | None = getattr(self, name.value)
        return figure


@dataclass(frozen=True, slots=True)
class UnreadableRecord:
    """A message that starts as a counting record but cannot be read as one."""

    reason: UnreadableReason
    where: str = ""  # the part of the message at fault, as typed (may be empty)
    ballot: Ballot | None = None  # when the start was read
    fields: tuple[RecordField, ...] = ()  # MISSING_FIELDS, FIELD_WITHOUT_NUMBER, DUPLICATE_FIELD
    area_code: str | None = None
    is_correction: bool = False


# --------------------------------------------------------------------------- vocabulary


class _Word(Enum):
    SORTED = auto()  # loại k
    FILLER = auto()  # words that say nothing: "số", "là"


def _phrases(
    meaning: RecordField | _Word, *texts: str
) -> dict[tuple[str, ...], RecordField | _Word]:
    return {tuple(text.split()): meaning for text in texts}


# Folded word sequences; the longest match wins ("khong hop le" before "hop le").
_VOCABULARY: dict[tuple[str, ...], RecordField | _Word] = {
    **_phrases(RecordField.REGISTERED_VOTERS, "cu tri", "ct", "so cu tri", "tong so cu tri",
               "tong cu tri", "tong ct"),
    **_phrases(RecordField.VOTED, "da bau", "bau", "bo phieu", "bp", "da bo phieu",
               "cu tri da bau", "so cu tri da bau", "cu tri da bo phieu",
               "so cu tri da bo phieu", "cu tri da tham gia bo phieu",
               "so cu tri da tham gia bo phieu", "tham gia bo phieu", "di bau", "da di bau",
               "cu tri di bau"),
    **_phrases(RecordField.ISSUED, "phat ra", "phat", "pr", "phieu phat ra",
               "so phieu phat ra"),
    **_phrases(RecordField.RETURNED, "thu vao", "thu", "tv", "phieu thu vao",
               "so phieu thu vao"),
    **_phrases(RecordField.VALID, "hop le", "hl", "phieu hop le", "so phieu hop le"),
    **_phrases(RecordField.INVALID, "khong hop le", "khl", "phieu khong hop le",
               "so phieu khong hop le", "ko hop le", "k hop le"),
    **_phrases(_Word.SORTED, "loai", "phieu loai"),
    **_phrases(_Word.FILLER, "so", "la", "tong so", "tong"),
}  # fmt: skip
_PHRASE_SIZES: dict[str, tuple[int, ...]] = {}
for _phrase in _VOCABULARY:
    _PHRASE_SIZES[_phrase[0]] = tuple(
        sorted({*_PHRASE_SIZES.get(_phrase[0], ()), len(_phrase)}, reverse=True)
    )

_BALLOT_ALIASES: dict[tuple[str, ...], Ballot] = {
    **{tuple(a.split()): Ballot.QH for a in ("qh", "quoc hoi", "dbqh", "dai bieu quoc hoi")},
    **{tuple(a.split()): Ballot.TINH for a in ("tinh", "hdnd tinh")},
    **{tuple(a.split()): Ballot.HUYEN for a in ("huyen", "hdnd huyen")},
    **{tuple(a.split()): Ballot.XA for a in ("xa", "hdnd xa")},
}
# `loại k` for k above this is no kind of ballot (a unit has a handful of seats).
MAX_SORTED_KIND = 99
_MAX_BALLOT_WORDS = max(len(a) for a in _BALLOT_ALIASES)
_HEADER_WORDS = frozenset(
    {"kq", "ket", "qua", "sua", "lai"} | {w for a in _BALLOT_ALIASES for w in a}
)
_WORDS = frozenset(w for p in _VOCABULARY for w in p) | _HEADER_WORDS


# --------------------------------------------------------------------------- patterns
#
# All patterns run on folded text (lowercase, no diacritics, every space " "), where line
# breaks were first made ";" so that positions map back to the message as typed.

_LINE_BREAKS = re.compile("[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
_LEAD = re.compile(r"[^a-z0-9;/]*")  # emoji, bullets, spaces before the start ("/" is a command)
_CODE = re.compile(r"[a-z0-9][a-z0-9._\-]*")
_COLON = re.compile(r" *:")
_CORRECTION = re.compile(r"sua(?: lai)?(?![a-z0-9]) *")
_START = re.compile(r"(kq|ket qua)(?![a-z0-9]) *:? *")
_SPACES = re.compile(r" *")
_WORD_AFTER = re.compile(r"[a-z]+(?: [a-z]+)*")
_LETTERS = re.compile(r"[^\W\d_]+")
_DIGITS_AND_MARKS = re.compile(r"[0-9][0-9.,]*[0-9]")  # `1,250`, `12.5`, `1.2.3`
_PURE_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]{3})*")
_SEPARATORS = frozenset(")-:\u2013\u2212")  # `1) 950`, `1-950`, `1:950`, `hl: 1220`
_REFUSED_SIGNS = frozenset("%/\u2044\u2215+=<>*×")  # never ignored: they change what a number means
_BREAKS = frozenset(";\uff1b\u037e")
_MAX_WHERE = 40


class _Kind(Enum):
    NUMBER = auto()
    WORD = auto()
    SEP = auto()  # ) - : between a candidate's number and its votes, or after a label
    OPEN = auto()  # ( before a candidate's number: `(1) 950`
    BREAK = auto()  # a line break, `;` or `,`: the end of a field
    IGNORED = auto()  # punctuation that says nothing, unless it sits between two numbers


@dataclass(frozen=True, slots=True)
class _Token:
    kind: _Kind
    start: int
    end: int
    value: int = 0  # NUMBER
    dotted: bool = False  # NUMBER written with `.` groups
    word: str = ""  # WORD: folded words; SEP: the sign
    meaning: RecordField | _Word | None = None  # WORD: None when unknown


class _Unreadable(Exception):
    def __init__(self, reason: UnreadableReason, where: str = "", *fields: RecordField) -> None:
        super().__init__(reason)
        self.reason = reason
        self.where = where
        self.fields = fields


@dataclass
class _Reader:
    """The message being read: the folded text and the way back to what was typed."""

    folded: Folded

    @property
    def s(self) -> str:
        return self.folded.text

    def typed(self, start: int, end: int) -> str:
        text = self.folded.original(start, end).replace(";", " ").strip()
        return text[: _MAX_WHERE - 1] + "…" if len(text) > _MAX_WHERE else text

    def around(self, pos: int) -> str:
        """The run of non-space characters around `pos`, as typed (for a stray sign)."""
        s = self.s
        start, end = pos, pos + 1
        while start > 0 and s[start - 1] not in " ;,":
            start -= 1
        while end < len(s) and s[end] not in " ;,":
            end += 1
        return self.typed(start, end)


# --------------------------------------------------------------------------- the start


@dataclass(frozen=True, slots=True)
class _Header:
    ballot: Ballot
    area_code: str | None
    is_correction: bool
    end: int  # where the body starts
    spelled_out: bool  # `kết quả`, which a turnout report may start with too, rather than `kq`


def _skip(pattern: re.Pattern[str], s: str, pos: int) -> int:
    m = pattern.match(s, pos)
    return m.end() if m is not None else pos


def _ballot_at(s: str, pos: int) -> tuple[Ballot, int] | None:
    """The ballot alias at `pos` (longest first) and its end."""
    m = _WORD_AFTER.match(s, pos)
    if m is None:
        return None
    words = m.group().split(" ")
    for size in range(min(_MAX_BALLOT_WORDS, len(words)), 0, -1):
        ballot = _BALLOT_ALIASES.get(tuple(words[:size]))
        if ballot is not None:
            end = pos + len(" ".join(words[:size]))
            return ballot, end
    return None


def _is_code_without_colon(code: str, rest: str) -> bool:
    """`KQ QH KV05 …`: a code typed without its colon is one only when it cannot be a number
    or a label, and no number follows it on the line."""
    if _PURE_NUMBER.fullmatch(code) or not re.search(r"[a-z\-_]", code):
        return False
    letters = re.match(r"[a-z]+", code)
    if letters is not None and letters.group() in _WORDS:
        return False  # `ct1250`: a label glued to its number
    return not rest or not rest[0].isdigit()


def _read_header(reader: _Reader) -> _Header | UnreadableRecord | None:
    s = reader.s
    pos = _skip(_LEAD, s, 0)
    prefix_code: str | None = None
    prefix = _CODE.match(s, pos)
    if prefix is not None and prefix.group() not in _HEADER_WORDS:
        colon = _COLON.match(s, prefix.end())
        if colon is not None:
            after = _skip(_SPACES, s, colon.end())
            if _CORRECTION.match(s, after) or _START.match(s, after):
                prefix_code = reader.typed(prefix.start(), prefix.end())
                pos = after
    correction = _CORRECTION.match(s, pos)
    if correction is not None:
        pos = correction.end()
    start = _START.match(s, pos)
    if start is None:
        return None
    is_correction = correction is not None
    pos = start.end()
    found = _ballot_at(s, pos)
    if found is None:
        if start.group(1) != "kq":
            return None  # "Kết quả: 250/320 9h" is a turnout report
        word = _WORD_AFTER.match(s, pos) or _CODE.match(s, pos)
        where = reader.typed(pos, word.end()).split(" ")[0] if word is not None else ""
        return UnreadableRecord(
            UnreadableReason.UNKNOWN_BALLOT, where, area_code=prefix_code,
            is_correction=is_correction,
        )  # fmt: skip
    ballot, pos = found
    if pos < len(s) and (s[pos].isalnum()):
        return None if start.group(1) != "kq" else UnreadableRecord(
            UnreadableReason.UNKNOWN_BALLOT, reader.around(pos), area_code=prefix_code,
            is_correction=is_correction,
        )  # fmt: skip
    pos = _skip(_SPACES, s, pos)
    colon = _COLON.match(s, pos)
    if colon is not None:
        pos = _skip(_SPACES, s, colon.end())
    area_code = prefix_code
    code = _CODE.match(s, pos)
    if code is not None:
        colon = _COLON.match(s, code.end())
        after = _skip(_SPACES, s, colon.end() if colon else code.end())
        rest = s[after:].split(";", 1)[0]
        letters = re.match(r"[a-z]+", code.group())
        is_code = (
            colon is not None
            and not _PURE_NUMBER.fullmatch(code.group())
            and (letters is None or letters.group() not in _WORDS)
        ) or (colon is None and _is_code_without_colon(code.group(), rest))
        if is_code:
            typed = reader.typed(code.start(), code.end())
            if prefix_code is not None:
                return UnreadableRecord(
                    UnreadableReason.TWO_AREAS, f"{prefix_code}, {typed}", ballot,
                    area_code=prefix_code, is_correction=is_correction,
                )  # fmt: skip
            area_code = typed
            pos = after
    return _Header(ballot, area_code, is_correction, pos, start.group(1) != "kq")


# --------------------------------------------------------------------------- tokens


def _tokenize(reader: _Reader, pos: int) -> list[_Token]:
    s = reader.s
    n = len(s)
    tokens: list[_Token] = []
    while pos < n:
        ch = s[pos]
        if ch == " ":
            pos += 1
        elif ch in _BREAKS or (ch == "," and not (0 < pos < n - 1 and s[pos - 1].isdigit()
                                                 and s[pos + 1].isdigit())):  # fmt: skip
            tokens.append(_Token(_Kind.BREAK, pos, pos + 1))
            pos += 1
        elif "0" <= ch <= "9":
            read = read_grouped_number(s, pos)
            assert read is not None
            value, end = read
            if end < n - 1 and s[end] in ".," and "0" <= s[end + 1] <= "9":
                digits = _DIGITS_AND_MARKS.match(s, pos)
                assert digits is not None
                where = reader.typed(pos, digits.end())
                raise _Unreadable(UnreadableReason.UNCLEAR_NUMBER, where)
            if value is None:
                raise _Unreadable(UnreadableReason.NUMBER_TOO_LONG, reader.typed(pos, end))
            tokens.append(_Token(_Kind.NUMBER, pos, end, value, dotted="." in s[pos:end]))
            pos = end
        elif ch.isdigit() or unicodedata.category(ch) == "No":
            # Digits of another script, "½", "²": never read as a count.
            raise _Unreadable(UnreadableReason.UNCLEAR_NUMBER, reader.around(pos))
        elif (word := _LETTERS.match(s, pos)) is not None:
            tokens.append(_Token(_Kind.WORD, pos, word.end(), word=word.group()))
            pos = word.end()
        elif ch in _SEPARATORS:
            tokens.append(_Token(_Kind.SEP, pos, pos + 1, word=ch))
            pos += 1
        elif ch == "(":
            tokens.append(_Token(_Kind.OPEN, pos, pos + 1))
            pos += 1
        elif ch in _REFUSED_SIGNS:
            raise _Unreadable(UnreadableReason.UNEXPECTED, reader.around(pos))
        else:
            tokens.append(_Token(_Kind.IGNORED, pos, pos + 1))  # ".", "!", emoji …
            pos += 1
    return _without_ignored(reader, _group_phrases(tokens))


def _without_ignored(reader: _Reader, tokens: list[_Token]) -> list[_Token]:
    """Ignored punctuation goes, unless it stands between two numbers (`1. 950`, `950 . 870`):
    then nobody can tell whether it joins them or separates them."""
    out: list[_Token] = []
    pending: _Token | None = None  # ignored punctuation right after a number
    for token in tokens:
        if token.kind is _Kind.IGNORED:
            if out and out[-1].kind is _Kind.NUMBER and pending is None:
                pending = token
            continue
        if pending is not None and token.kind is _Kind.NUMBER:
            before = out[-1]
            raise _Unreadable(
                UnreadableReason.UNCLEAR_NUMBER, reader.typed(before.start, token.end)
            )
        pending = None
        out.append(token)
    return out


def _group_phrases(tokens: list[_Token]) -> list[_Token]:
    """Runs of words into labels, longest first ("khong hop le" before "hop le")."""
    out: list[_Token] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.kind is not _Kind.WORD:
            out.append(token)
            i += 1
            continue
        for size in _PHRASE_SIZES.get(token.word, ()):
            run = tokens[i : i + size]
            if len(run) < size or any(t.kind is not _Kind.WORD for t in run):
                continue
            meaning = _VOCABULARY.get(tuple(t.word for t in run))
            if meaning is not None:
                words = " ".join(t.word for t in run)
                out.append(_Token(_Kind.WORD, token.start, run[-1].end, word=words,
                                  meaning=meaning))  # fmt: skip
                i += size
                break
        else:
            out.append(token)
            i += 1
    return out


# --------------------------------------------------------------------------- the body


@dataclass
class _Body:
    fields: dict[RecordField, int] = field(default_factory=dict)
    sorted_valid: dict[int, int] = field(default_factory=dict)
    # (candidate number as typed or None for a bare figure, votes, where)
    votes: list[tuple[int | None, int, str]] = field(default_factory=list)


def _segments(tokens: list[_Token]) -> list[list[_Token]]:
    segments: list[list[_Token]] = [[]]
    for token in tokens:
        if token.kind is _Kind.BREAK:
            segments.append([])
        else:
            segments[-1].append(token)
    return [segment for segment in segments if segment]


def _read_segment(reader: _Reader, segment: list[_Token], body: _Body) -> None:
    # A leading "-", ":" or "–" is a bullet ("- hợp lệ: 1.220").
    while segment and segment[0].kind is _Kind.SEP and segment[0].word != ")":
        segment = segment[1:]
    n = len(segment)
    last_value: _Token | None = None  # the number of the last field read in this segment
    i = 0
    while i < n:
        token = segment[i]
        if token.kind is _Kind.WORD:
            meaning = token.meaning
            if meaning is _Word.FILLER:
                i += 1
            elif isinstance(meaning, RecordField):
                j = i + 1
                if j < n and segment[j].kind is _Kind.SEP and segment[j].word != ")":
                    j += 1
                if j >= n or segment[j].kind is not _Kind.NUMBER:
                    raise _Unreadable(
                        UnreadableReason.FIELD_WITHOUT_NUMBER,
                        reader.typed(token.start, token.end), meaning,
                    )  # fmt: skip
                if meaning in body.fields:
                    raise _Unreadable(
                        UnreadableReason.DUPLICATE_FIELD,
                        reader.typed(token.start, segment[j].end), meaning,
                    )  # fmt: skip
                body.fields[meaning] = segment[j].value
                last_value = segment[j]
                i = j + 1
            elif meaning is _Word.SORTED:
                j = i + 1
                kind = segment[j] if j < n and segment[j].kind is _Kind.NUMBER else None
                j += 1
                if j < n and segment[j].kind is _Kind.SEP and segment[j].word != ")":
                    j += 1
                count = segment[j] if j < n and segment[j].kind is _Kind.NUMBER else None
                if kind is None or count is None:
                    end = segment[min(j, n - 1)].end
                    raise _Unreadable(
                        UnreadableReason.FIELD_WITHOUT_NUMBER, reader.typed(token.start, end)
                    )
                if not 1 <= kind.value <= MAX_SORTED_KIND:
                    raise _Unreadable(
                        UnreadableReason.UNEXPECTED, reader.typed(token.start, kind.end)
                    )
                if kind.value in body.sorted_valid:
                    raise _Unreadable(
                        UnreadableReason.DUPLICATE_FIELD, reader.typed(token.start, count.end)
                    )
                body.sorted_valid[kind.value] = count.value
                last_value = count
                i = j + 1
            else:
                where = reader.typed(token.start, token.end)
                raise _Unreadable(UnreadableReason.UNKNOWN_WORD, where)
        elif token.kind is _Kind.NUMBER:
            if last_value is not None:
                raise _stray(reader, last_value, token)
            if (
                i + 2 < n
                and segment[i + 1].kind is _Kind.SEP
                and (segment[i + 2].kind is _Kind.NUMBER)
            ):
                votes = segment[i + 2]
                where = reader.typed(token.start, votes.end)
                body.votes.append((token.value, votes.value, where))
                i += 3
            else:
                body.votes.append((None, token.value, reader.typed(token.start, token.end)))
                i += 1
        elif token.kind is _Kind.OPEN:
            if not (
                i + 3 < n
                and segment[i + 1].kind is _Kind.NUMBER
                and segment[i + 2].kind is _Kind.SEP
                and segment[i + 2].word == ")"
                and segment[i + 3].kind is _Kind.NUMBER
            ):
                raise _Unreadable(UnreadableReason.UNEXPECTED, reader.around(token.start))
            number, votes = segment[i + 1], segment[i + 3]
            body.votes.append((number.value, votes.value, reader.typed(token.start, votes.end)))
            i += 4
        else:  # a sign between two fields ("cử tri 1.250 - đã bầu 1.238") says nothing
            following = segment[i + 1] if i + 1 < n else None
            if not (
                last_value is not None
                and token.word != ")"
                and following is not None
                and following.kind is _Kind.WORD
            ):
                raise _Unreadable(UnreadableReason.UNEXPECTED, reader.around(token.start))
            i += 1


def _stray(reader: _Reader, value: _Token, number: _Token) -> _Unreadable:
    """A number after a field's number: `1 250` (a space as thousands separator) or a stray."""
    s = reader.s
    digits = s[value.start : value.end]
    if (
        s[value.end : number.start] == " "
        and not value.dotted
        and len(digits) <= 3
        and not digits.startswith("0")
        and not number.dotted
        and number.end - number.start == 3
    ):
        return _Unreadable(UnreadableReason.SPACE_IN_NUMBER, reader.typed(value.start, number.end))
    return _Unreadable(UnreadableReason.STRAY_NUMBER, reader.typed(number.start, number.end))


def _votes(body: _Body) -> tuple[int, ...]:
    numbered = [item for item in body.votes if item[0] is not None]
    if numbered and len(numbered) != len(body.votes):
        bare = next(item for item in body.votes if item[0] is None)
        raise _Unreadable(UnreadableReason.MIXED_VOTE_FORMS, bare[2])
    for position, (number, _, where) in enumerate(numbered, start=1):
        if number != position:
            raise _Unreadable(UnreadableReason.VOTE_OUT_OF_ORDER, where)
    return tuple(votes for _, votes, _ in body.votes)


# --------------------------------------------------------------------------- entry points


def parse_record(text: str) -> ParsedRecord | UnreadableRecord | None:
    """Read a message as a counting record.

    ``None`` when the message does not start as one (it is something else: a turnout report,
    a command); an :class:`UnreadableRecord` when it starts as one but cannot be read."""
    reader = _Reader(fold(_LINE_BREAKS.sub(";", text)))
    header = _read_header(reader)
    if header is None or isinstance(header, UnreadableRecord):
        return header
    body = _Body()
    try:
        for segment in _segments(_tokenize(reader, header.end)):
            _read_segment(reader, segment, body)
        votes = _votes(body)
    except _Unreadable as problem:
        if header.spelled_out and not _mentions_a_field(reader.s, header.end):
            return None  # "Kết quả xã Bản Lầu: 250/320 9h" is a turnout report
        return UnreadableRecord(
            problem.reason, problem.where, header.ballot, problem.fields, header.area_code,
            header.is_correction,
        )  # fmt: skip
    missing = tuple(f for f in REQUIRED_FIELDS if f not in body.fields)
    if missing:
        if header.spelled_out and not body.fields:
            return None
        return UnreadableRecord(
            UnreadableReason.MISSING_FIELDS, "", header.ballot, missing, header.area_code,
            header.is_correction,
        )  # fmt: skip
    fields = body.fields
    kinds = body.sorted_valid
    return ParsedRecord(
        ballot=header.ballot,
        voted=fields[RecordField.VOTED],
        issued=fields[RecordField.ISSUED],
        returned=fields[RecordField.RETURNED],
        valid=fields[RecordField.VALID],
        invalid=fields[RecordField.INVALID],
        votes=votes,
        registered_voters=fields.get(RecordField.REGISTERED_VOTERS),
        loai=tuple(kinds.get(k, 0) for k in range(1, max(kinds) + 1)) if kinds else None,
        area_code=header.area_code,
        is_correction=header.is_correction,
    )


def _mentions_a_field(s: str, pos: int) -> bool:
    """Whether a label of the record (`hợp lệ`, `bp` …) is among the words after `pos`."""
    words = _LETTERS.findall(s, pos)
    return any(
        isinstance(_VOCABULARY.get(tuple(words[i : i + size])), RecordField)
        for i, word in enumerate(words)
        for size in _PHRASE_SIZES.get(word, ())
    )


# The confirmation of a read-back record: each word as written, or without its diacritics
# ("đúng" or "dung", never "dừng", which means stop).
_CONFIRMATIONS = (("đúng",), ("ok",), ("xác", "nhận"))


def _plain(word: str) -> str:
    return fold(word).text


def is_confirmation(text: str) -> bool:
    """Whether the message confirms a pending record: `đúng`, `dung`, `ok`, `xác nhận`, in
    any case, with punctuation or an emoji around it."""
    if any(ch.isdigit() for ch in text):
        return False
    words = _LETTERS.findall(unicodedata.normalize("NFC", text).lower())
    return any(
        len(words) == len(wanted)
        and all(word in (right, _plain(right)) for word, right in zip(words, wanted, strict=True))
        for wanted in _CONFIRMATIONS
    )


# --------------------------------------------------------------------------- writing


class VoteForm(StrEnum):
    PAREN = "paren"  # 1) 950 2) 870
    DASH = "dash"  # 1-950 2-870
    COLON = "colon"  # 1:950 2:870
    BARE = "bare"  # 950 870
    LINES = "lines"  # one figure per line


@dataclass(frozen=True, slots=True)
class WriteStyle:
    """How a chief might type a record: the forms the grammar accepts."""

    diacritics: bool = True
    short_labels: bool = False  # `ct`, `bp`, `pr`, `tv`, `hl`, `khl`
    vote_form: VoteForm = VoteForm.PAREN
    separator: str = ", "  # between fields: ", ", "; " or "\n"
    dotted: bool = True  # `1.250` rather than `1250`
    area_first: bool = False  # `KV05: KQ QH` rather than `KQ QH KV05`


_LABELS: dict[RecordField, tuple[str, str, str]] = {  # with diacritics, without, short
    RecordField.REGISTERED_VOTERS: ("cử tri", "cu tri", "ct"),
    RecordField.VOTED: ("đã bầu", "da bau", "bp"),
    RecordField.ISSUED: ("phát ra", "phat ra", "pr"),
    RecordField.RETURNED: ("thu vào", "thu vao", "tv"),
    RecordField.VALID: ("hợp lệ", "hop le", "hl"),
    RecordField.INVALID: ("không hợp lệ", "khong hop le", "khl"),
}
_BALLOT_NAMES = {Ballot.QH: ("QH", "QH"), Ballot.TINH: ("tỉnh", "tinh"),
                 Ballot.HUYEN: ("huyện", "huyen"), Ballot.XA: ("xã", "xa")}  # fmt: skip


def write_record(record: ParsedRecord, style: WriteStyle = WriteStyle()) -> str:
    """The record as a message a chief could send; `parse_record` reads it back as it is."""

    def number(value: int) -> str:
        return f"{value:,}".replace(",", ".") if style.dotted else str(value)

    def label(name: RecordField) -> str:
        full, plain, short = _LABELS[name]
        return short if style.short_labels else (full if style.diacritics else plain)

    ballot = _BALLOT_NAMES[record.ballot][0 if style.diacritics else 1]
    start = f"{'sửa ' if style.diacritics else 'sua '}" if record.is_correction else ""
    start += f"KQ {ballot}"
    if record.area_code is not None:
        start = (
            f"{record.area_code}: {start}" if style.area_first else f"{start} {record.area_code}:"
        )
    fields = [
        f"{label(name)} {number(value)}"
        for name in (RecordField.REGISTERED_VOTERS, *REQUIRED_FIELDS)
        if (value := record.value(name)) is not None
    ]
    lines = [start, style.separator.join(fields)] if style.separator != "\n" else [start, *fields]
    forms = {
        VoteForm.PAREN: "{n}) {v}", VoteForm.DASH: "{n}-{v}", VoteForm.COLON: "{n}:{v}",
        VoteForm.BARE: "{v}", VoteForm.LINES: "{v}",
    }  # fmt: skip
    items = [forms[style.vote_form].format(n=n, v=number(v)) for n, v in enumerate(record.votes, 1)]
    if items:
        if style.vote_form is VoteForm.LINES:
            lines.extend(items)
        else:
            lines.append(" ".join(items))
    if record.loai:
        word = "loại" if style.diacritics else "loai"
        kinds = enumerate(record.loai, start=1)
        lines.append(" ".join(f"{word} {k}: {number(count)}" for k, count in kinds))
    return "\n".join(lines)
