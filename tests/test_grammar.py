"""Tests for the report grammar (bot/turnout/grammar.py): every documented form, every refusal,
area prefixes and their carry-over, and property tests (robustness and round-trip)."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.turnout.grammar import parse_message
from bot.turnout.lines import ParsedLine, ParsedReport, ReportKind, UnreadableLine, UnreadableReason

T = ReportKind.TURNOUT
C = ReportKind.COMPLETION
X = ReportKind.COVID
R = UnreadableReason


def only(text: str) -> ParsedLine:
    lines = parse_message(text)
    assert len(lines) == 1, lines
    return lines[0]


def report(text: str, kind: ReportKind, **fields: Any) -> ParsedReport:
    """The report expected for a one-line message `text` (index 0, no prefix)."""
    base: dict[str, Any] = {"index": 0, "text": text.strip(), "area_code": None, "kind": kind}
    return ParsedReport(**(base | fields))


# The fields the tests below pin; the natural-phrasing fields (afternoon_possible, percent,
# whole_list, date, area_number, area_place) are pinned by tests/test_phrasing.py.
PINNED = {
    "index", "text", "area_code", "kind", "is_correction", "voted", "list_size", "time",
    "staff_tested", "staff_total", "positives", "reason", "detail",
}  # fmt: skip


def pinned(lines: list[ParsedLine]) -> list[dict[str, Any]]:
    return [line.model_dump(include=PINNED) for line in lines]


def t(hour: int, minute: int = 0) -> dt.time:
    return dt.time(hour, minute)


# --------------------------------------------------------------------------- reports

REPORTS: list[tuple[str, ReportKind, dict[str, Any]]] = [
    # turnout
    ("250/320 9h", T, {"voted": 250, "list_size": 320, "time": t(9)}),
    ("9h30 ct 250/320", T, {"voted": 250, "list_size": 320, "time": t(9, 30)}),
    ("Cử tri: 1.250/2.000 lúc 11 giờ", T, {"voted": 1250, "list_size": 2000, "time": t(11)}),
    ("250 lúc 9:30", T, {"voted": 250, "time": t(9, 30)}),
    ("ct 250 9h", T, {"voted": 250, "time": t(9)}),
    ("ct 250", T, {"voted": 250}),
    ("cử tri 250", T, {"voted": 250}),
    ("250/320", T, {"voted": 250, "list_size": 320}),
    ("09:30 ct 250/320", T, {"voted": 250, "list_size": 320, "time": t(9, 30)}),
    ("19 giờ 1.643/2.000", T, {"voted": 1643, "list_size": 2000, "time": t(19)}),
    ("1 250/2 000 9h", T, {"voted": 1250, "list_size": 2000, "time": t(9)}),
    ("1250 / 2000 9h", T, {"voted": 1250, "list_size": 2000, "time": t(9)}),
    ("12.345.678/20.000.000 9h", T, {"voted": 12345678, "list_size": 20000000, "time": t(9)}),
    ("400/320 9h", T, {"voted": 400, "list_size": 320, "time": t(9)}),  # not our job
    ("0/320 7h", T, {"voted": 0, "list_size": 320, "time": t(7)}),
    ("ct250 9h", T, {"voted": 250, "time": t(9)}),
    (
        "Dạ báo cáo: số cử tri đã đi bầu 250/320 người, lúc 9h ạ!",
        T,
        {"voted": 250, "list_size": 320, "time": t(9)},
    ),
    ("Tổng: 250/320 (78%) 9h30'", T, {"voted": 250, "list_size": 320, "time": t(9, 30)}),
    ("bc 250/320 đạt 78,1% vào 10h", T, {"voted": 250, "list_size": 320, "time": t(10)}),
    ("250/320 9h 30", T, {"voted": 250, "list_size": 320, "time": t(9, 30)}),
    # "30 250/320" could be 30 250 (a space-grouped number) over 320; only one reading
    # gives a numerator within the list, so the grammar takes it.
    ("9 giờ 30 250/320", T, {"voted": 250, "list_size": 320, "time": t(9, 30)}),
    ("lúc 9 250/320", T, {"voted": 250, "list_size": 320, "time": t(9)}),
    ("17h31/320", T, {"voted": 31, "list_size": 320, "time": t(17)}),
    # completion
    ("xong 12h30", C, {"time": t(12, 30)}),
    ("Hoàn thành 320/320 lúc 12h30", C, {"voted": 320, "list_size": 320, "time": t(12, 30)}),
    ("kết thúc 17h 318/320", C, {"voted": 318, "list_size": 320, "time": t(17)}),
    ("ket thuc 17 gio 318/320", C, {"voted": 318, "list_size": 320, "time": t(17)}),
    ("xong", C, {}),
    ("ĐÃ XONG", C, {}),
    ("da xong 320", C, {"voted": 320}),
    ("hoàn tất 1.318 lúc 17h", C, {"voted": 1318, "time": t(17)}),
    ("hoan tat ct 318", C, {"voted": 318}),
    ("hoàn thành 100%", C, {}),
    # COVID staff tests
    ("XN 16/16 âm tính", X, {"staff_tested": 16, "staff_total": 16, "positives": 0}),
    ("xét nghiệm 15/16 dương tính 1", X, {"staff_tested": 15, "staff_total": 16, "positives": 1}),
    ("xn 15/16 dt 0", X, {"staff_tested": 15, "staff_total": 16, "positives": 0}),
    ("xet nghiem 15/16 duong tinh 1", X, {"staff_tested": 15, "staff_total": 16, "positives": 1}),
    ("xn 15/16 dtinh 2", X, {"staff_tested": 15, "staff_total": 16, "positives": 2}),
    ("xn 15/16 dt1", X, {"staff_tested": 15, "staff_total": 16, "positives": 1}),
    ("xn 14/16, 2 dương tính", X, {"staff_tested": 14, "staff_total": 16, "positives": 2}),
    ("xn 16/16 am tinh, dt 0", X, {"staff_tested": 16, "staff_total": 16, "positives": 0}),
    ("xn: 16/16 dương tính: 0", X, {"staff_tested": 16, "staff_total": 16, "positives": 0}),
    (
        "xn 16/16 âm tính 7h",
        X,
        {"staff_tested": 16, "staff_total": 16, "positives": 0, "time": t(7)},
    ),
    # corrections
    ("sửa 245/320 9h", T, {"is_correction": True, "voted": 245, "list_size": 320, "time": t(9)}),
    ("sua 245/320 9h", T, {"is_correction": True, "voted": 245, "list_size": 320, "time": t(9)}),
    (
        "Sửa lại: 245/320 9h",
        T,
        {"is_correction": True, "voted": 245, "list_size": 320, "time": t(9)},
    ),
    (
        "sửa xong 12h30 320/320",
        C,
        {"is_correction": True, "voted": 320, "list_size": 320, "time": t(12, 30)},
    ),
    (
        "sua xn 16/16 am tinh",
        X,
        {"is_correction": True, "staff_tested": 16, "staff_total": 16, "positives": 0},
    ),
]


@pytest.mark.parametrize(("text", "kind", "fields"), REPORTS, ids=[r[0] for r in REPORTS])
def test_reports(text: str, kind: ReportKind, fields: dict[str, Any]) -> None:
    assert pinned(parse_message(text)) == pinned([report(text, kind, **fields)])


TIMES: list[tuple[str, dt.time]] = [
    ("9h", t(9)),
    ("9H", t(9)),
    ("9h30", t(9, 30)),
    ("9h05", t(9, 5)),
    ("9h5", t(9, 5)),
    ("9h30'", t(9, 30)),
    ("9h30’", t(9, 30)),
    ("9h30p", t(9, 30)),
    ("9h30 phút", t(9, 30)),
    ("9h 30", t(9, 30)),
    ("09:30", t(9, 30)),
    ("9:30", t(9, 30)),
    ("9:30h", t(9, 30)),
    ("9 giờ 30", t(9, 30)),
    ("9 giờ 30 phút", t(9, 30)),
    ("9 gio 30 phut", t(9, 30)),
    ("9 giờ", t(9)),
    ("9 gio", t(9)),
    ("9giờ", t(9)),
    ("9g30", t(9, 30)),
    ("9g", t(9)),
    ("lúc 9h", t(9)),
    ("luc 9h30", t(9, 30)),
    ("vào 9h", t(9)),
    ("vao luc 09:30", t(9, 30)),
    ("lúc 9", t(9)),
    ("0h", t(0)),
    ("00:00", t(0)),
    ("23h59", t(23, 59)),
    ("23:59", t(23, 59)),
    ("4h", t(4)),  # range rules belong to validation
]


@pytest.mark.parametrize(("form", "expected"), TIMES, ids=[f for f, _ in TIMES])
@pytest.mark.parametrize("layout", ["250/320 {}", "{} 250/320", "{}, ct 250"])
def test_time_forms(form: str, expected: dt.time, layout: str) -> None:
    text = layout.format(form)
    line = only(text)
    assert isinstance(line, ParsedReport), line
    assert line.time == expected
    assert line.voted == 250


# --------------------------------------------------------------------------- refusals

REFUSALS: list[tuple[str, UnreadableReason, str | None]] = [
    # nothing to read
    ("250", R.UNREADABLE, None),
    ("0912345678", R.NO_REPORT, None),  # a phone number is never a count
    ("đã bầu 250", R.UNREADABLE, None),
    ("Chào anh", R.NO_REPORT, None),
    ("sửa", R.UNREADABLE, None),
    ("78%", R.PERCENT_ONLY, "78%"),
    # the digits read as minutes + a count, or as one space-grouped count
    ("9 giờ 30 250", R.UNREADABLE, "30 250"),
    ("19 giờ 1 643/2 000", R.UNREADABLE, "1 643/2 000"),
    ("9h 5 250", R.UNREADABLE, "5 250"),
    ("lúc 9 250", R.UNREADABLE, "9 250"),
    # what we cannot read (words alone are ignored since issue 14; these hold digits or
    # marks that could change a number)
    ("xong 320/320 xn 16/16 am tinh", R.UNKNOWN_WORDS, "xn"),
    ("250/ 9h", R.UNKNOWN_WORDS, "/"),
    ("٢٥٠/320 9h", R.UNKNOWN_WORDS, "٢٥٠"),
    ("250½ 9h", R.UNKNOWN_WORDS, "½"),
    ("abc12 250/320 9h", R.UNKNOWN_WORDS, "abc12"),
    # bad times
    ("250/320 25h", R.BAD_TIME, "25h"),
    ("250/320 9h75", R.BAD_TIME, "9h75"),
    ("250/320 24:00", R.BAD_TIME, "24:00"),
    ("250/320 9:60", R.BAD_TIME, "9:60"),
    ("250/320 9 giờ 75", R.BAD_TIME, "9 giờ 75"),
    ("250/320 lúc 25", R.BAD_TIME, "25"),
    ("xong 123h", R.BAD_TIME, "123h"),
    # a time or "ct" but no count
    ("9h30", R.MISSING_COUNT, None),
    ("ct 9h", R.MISSING_COUNT, None),
    ("lúc 9h", R.MISSING_COUNT, None),
    ("sửa 9h", R.MISSING_COUNT, None),
    ("cử tri", R.NO_REPORT, None),  # "Mưa to nhưng cử tri vẫn đi bầu đông": no report
    # too many numbers
    ("250/320 300/400 9h", R.TOO_MANY_NUMBERS, "300/400"),
    ("9h 10h 250/320", R.TOO_MANY_NUMBERS, "10h"),
    ("9h-10h 250/320", R.TOO_MANY_NUMBERS, "10h"),
    ("250/320 9h 100", R.TOO_MANY_NUMBERS, "100"),
    ("250-320 9h", R.TOO_MANY_NUMBERS, "320"),
    ("1,250/2,000 9h", R.UNCLEAR_DIGITS, "1,250"),
    ("9h: -5/320", R.NEGATIVE_NUMBER, "-5/320"),
    ("còn 70 chưa bầu lúc 9h", R.UNPLACED_NUMBER, "còn"),
    ("05 250 9h", R.TOO_MANY_NUMBERS, "250"),
    ("xong 320, 321", R.TOO_MANY_NUMBERS, "321"),
    ("xn 16/16 dt 1 dt 2", R.TOO_MANY_NUMBERS, "2"),
    # zero list
    ("250/0 9h", R.ZERO_LIST, "250/0"),
    ("xong 0/0", R.ZERO_LIST, "0/0"),
    ("xn 16/0 âm tính", R.ZERO_LIST, "16/0"),
    # COVID
    ("xn âm tính 16%", R.COVID_MISSING_FRACTION, None),
    ("xn âm tính", R.COVID_MISSING_FRACTION, None),
    ("xn 16/16", R.COVID_MISSING_RESULT, None),
    ("xn 16/16 dương tính", R.COVID_MISSING_RESULT, "dương tính"),
    ("xn 16/16 âm tính dương tính 1", R.COVID_CONTRADICTION, "1"),
    ("xn 16/16 dt 2 âm tính", R.COVID_CONTRADICTION, "2"),
]


@pytest.mark.parametrize(("text", "reason", "detail"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refusals(text: str, reason: UnreadableReason, detail: str | None) -> None:
    expected = UnreadableLine(index=0, text=text, area_code=None, reason=reason, detail=detail)
    assert pinned(parse_message(text)) == pinned([expected])


def test_every_reason_is_produced() -> None:
    assert {reason for _, reason, _ in REFUSALS} == set(UnreadableReason)


# --------------------------------------------------------------------------- messages


def areas_and_kinds(text: str) -> list[tuple[int, str | None, str]]:
    out = []
    for line in parse_message(text):
        what = line.kind.value if isinstance(line, ParsedReport) else line.reason.value
        out.append((line.index, line.area_code, what))
    return out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "KV05: 250/320 9h; xn 16/16 am tinh",
            [(0, "KV05", "turnout"), (1, "KV05", "covid")],
        ),
        (
            "KV05: 250/320 9h\nKV06: 100/200 9h\n120/200 10h",
            [(0, "KV05", "turnout"), (1, "KV06", "turnout"), (2, "KV06", "turnout")],
        ),
        # carried over to unreadable lines too
        ("KV05: 250/320 9h\nhello", [(0, "KV05", "turnout"), (1, "KV05", "no_report")]),
        # empty and punctuation-only segments are skipped and not counted
        (
            "\n250/320 9h;;  ;\r\n---\n👍\n\txn 16/16 âm tính ;",
            [(0, None, "turnout"), (1, None, "covid")],
        ),
        # a prefix on its own line heads the following reports
        ("KV05:\n250/320 9h\nxn 16/16 am tinh", [(0, "KV05", "turnout"), (1, "KV05", "covid")]),
        # ... and is refused when no report follows it
        ("KV05:", [(0, "KV05", "unreadable")]),
        ("KV05:\nKV06: 250/320 9h", [(0, "KV05", "unreadable"), (1, "KV06", "turnout")]),
        ("250/320 9h\nKV05:", [(0, None, "turnout"), (1, "KV05", "unreadable")]),
        # codes as typed
        ("lc.mk.01: ct 1 250 9h", [(0, "lc.mk.01", "turnout")]),
        ("02752-01: xong 12h30", [(0, "02752-01", "completion")]),
        ("kv05 : 250/320 9h", [(0, "kv05", "turnout")]),
        ("12345: 250/320 9h", [(0, "12345", "turnout")]),
        ("KV05:250/320 9h", [(0, "KV05", "turnout")]),
        ("  KV_5: sửa 245/320 9h", [(0, "KV_5", "turnout")]),
        # not prefixes: times and labels
        ("09:30 ct 250/320", [(0, None, "turnout")]),
        ("9:30 ct 250/320", [(0, None, "turnout")]),
        ("9h30: 250/320", [(0, None, "turnout")]),
        ("9h: 250/320", [(0, None, "turnout")]),
        ("Cử tri: 1.250/2.000 lúc 11 giờ", [(0, None, "turnout")]),
        ("CT: 250 9h", [(0, None, "turnout")]),
        ("Xong: 12h30", [(0, None, "completion")]),
        ("xn: 16/16 âm tính", [(0, None, "covid")]),
        ("Sửa: 245/320 9h", [(0, None, "turnout")]),
        ("Lúc: 9h 250/320", [(0, None, "turnout")]),
        ("Tổng: 250/320 9h", [(0, None, "turnout")]),
        ("12345:250/320 9h", [(0, None, "too_many_numbers")]),
    ],
)
def test_messages(text: str, expected: list[tuple[int, str | None, str]]) -> None:
    assert areas_and_kinds(text) == expected


def test_line_text_is_the_stripped_original_segment() -> None:
    lines = parse_message("  KV05:  250/320 9h  ;\n  Xong 12H30 \n")
    assert [line.text for line in lines] == ["KV05:  250/320 9h", "Xong 12H30"]


def test_empty_message() -> None:
    assert parse_message("") == []
    assert parse_message(" ;\n ; ") == []


@pytest.mark.parametrize(
    "text",
    [
        "XÉT NGHIỆM 15/16 DƯƠNG TÍNH 1",  # upper case
        unicodedata.normalize("NFD", "xét nghiệm 15/16 dương tính 1"),  # decomposed marks
        "xét\u00a0nghiệm\t15 /\u202f16  dương tính 1",  # odd spaces
        "x\u200bn 15/16 dương tính 1",  # zero-width space
        "ｘｎ　１５／１６　ｄｔ　１",  # full-width
        "Ðương tính 1 xn 15/16",  # Icelandic eth as Đ, keyword order free
    ],
)
def test_normalisation(text: str) -> None:
    line = only(text)
    assert isinstance(line, ParsedReport), line
    assert (line.kind, line.staff_tested, line.staff_total, line.positives) == (X, 15, 16, 1)


def test_long_details_are_clipped() -> None:
    line = only("9" * 4000)
    assert isinstance(line, UnreadableLine)
    assert line.reason is R.UNKNOWN_WORDS  # no count has 4,000 digits
    assert line.detail == "9" * 39 + "…"


def test_detail_is_shown_as_typed() -> None:
    line = only(unicodedata.normalize("NFD", "Khoảng 250/320 9h"))
    assert isinstance(line, UnreadableLine)
    assert line.detail == "Khoảng"  # composed again for display


# --------------------------------------------------------------------------- properties


def check_shape(text: str, lines: list[ParsedLine]) -> None:
    assert [line.index for line in lines] == list(range(len(lines)))
    for line in lines:
        assert isinstance(line, ParsedReport | UnreadableLine)
        assert line.text
        assert line.text in text
        assert line.text == line.text.strip()


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_any_text_never_raises(text: str) -> None:
    check_shape(text, parse_message(text))


VIET_LETTERS = (
    "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụ"
    "ưừứửữựvxyỳýỷỹỵĐÂĂÊÔƠƯ"
)
PIECES = [
    *VIET_LETTERS,
    *"0123456789/:;.,h' \n\t-%",
    "xn",
    "ct",
    "xong",
    "sửa",
    "lúc",
    "giờ",
    "phút",
    "âm tính",
    "dương tính",
    "dt",
    "hoàn thành",
    "kết thúc",
    "cử tri",
    "KV05:",
    "12345: ",
    "1.250",
    " 250",
    "/320",
    "9h30",
    "09:30",
    "1 250",
    "25h",
    "0",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40).map("".join))
def test_vietnamese_looking_text_never_raises(text: str) -> None:
    check_shape(text, parse_message(text))


# Round trip: render a random valid report the way a chief might type it, read it back.

CODES = ("KV05", "kv06", "02752-01", "lc.mk.01", "12345", "A_1")
# Not "tổng" or "đạt": since issue 14 they say what a number is (the list size, a percentage).
FILLERS = ("báo cáo", "bc", "đã bầu", "có", "người", "dạ", "ạ", "đã đi bầu", "em", "nhé", "nha")
DONE_WORDS = ("xong", "đã xong", "hoàn thành", "kết thúc", "hoàn tất")
COVID_WORDS = ("xn", "xét nghiệm", "XN:")
VOTER_WORDS = ("ct", "cử tri", "Cử tri:")
CORRECTION_WORDS = ("sửa", "sửa lại", "Sửa:")


def unaccent(text: str) -> str:
    stripped = "".join(
        c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn"
    )
    return stripped.replace("đ", "d").replace("Đ", "D")


def pick(draw: st.DrawFn, options: list[str]) -> str:
    # Cheaper than a fresh sampled_from() per draw: st.integers() strategies are cached.
    return options[draw(st.integers(0, len(options) - 1))]


@st.composite
def numbers(draw: st.DrawFn, low: int, high: int) -> tuple[int, str]:
    value = draw(st.integers(low, high))
    forms = [str(value)]
    if value >= 1000:
        forms += [f"{value:,}".replace(",", "."), f"{value:,}".replace(",", " ")]
    return value, pick(draw, forms)


@st.composite
def fractions(draw: st.DrawFn, high: int) -> tuple[int, int, str]:
    a, a_text = draw(numbers(0, high))
    b, b_text = draw(numbers(1, high))
    if a > b and a <= 31 and b <= 12:  # "23/5" is a date, never a count
        b, b_text = a, str(a)
    bar = draw(st.sampled_from(("/", " / ", "/ ")))
    return a, b, f"{a_text}{bar}{b_text}"


@st.composite
def times(draw: st.DrawFn) -> tuple[dt.time, str]:
    h = draw(st.integers(0, 23))
    m = draw(st.integers(0, 59))
    forms = [
        f"{h}h{m:02d}",
        f"{h}h{m}",
        f"{h:02d}:{m:02d}",
        f"{h}:{m:02d}",
        f"{h} giờ {m}",
        f"{h} giờ {m} phút",
        f"{h}g{m:02d}",
        f"{h}h{m:02d}'",
        f"{h}h{m}p",
        f"{h}:{m:02d}h",
        f"{h}h {m}",
    ]
    if m == 0:
        forms += [f"{h}h", f"{h} giờ", f"{h}g", f"{h} gio", f"lúc {h}"]
    form = pick(draw, forms)
    if not form.startswith("lúc"):
        form = draw(st.sampled_from(("", "lúc ", "vào "))) + form
    return dt.time(h, m), form


Piece = tuple[str, bool]  # a piece of report text, and whether it is a time


@st.composite
def one_report(draw: st.DrawFn) -> tuple[dict[str, Any], list[Piece]]:
    """Expected fields and the pieces of text (in any order, but "sửa" first)."""
    kind = draw(st.sampled_from(tuple(ReportKind)))
    fields: dict[str, Any] = {"kind": kind, "is_correction": draw(st.booleans())}
    head: list[Piece] = []
    pieces: list[Piece] = []
    if fields["is_correction"]:
        head.append((draw(st.sampled_from(CORRECTION_WORDS)), False))
    timed = draw(st.booleans())
    if timed:
        fields["time"], time_text = draw(times())
        pieces.append((time_text, True))
    if kind is ReportKind.COVID:
        pieces.append((draw(st.sampled_from(COVID_WORDS)), False))
        tested, total, text = draw(fractions(99))
        fields |= {"staff_tested": tested, "staff_total": total}
        pieces.append((text, False))
        n = draw(st.integers(0, 99))
        fields["positives"] = n
        forms = [f"dương tính {n}", f"dt {n}", f"dtinh {n}", f"{n} dương tính", f"dt: {n}"]
        if n == 0:
            forms.append("âm tính")
            pieces.append(("âm tính", False))  # "âm tính" with "dương tính 0" is fine
        pieces.append((pick(draw, forms), False))
    else:
        if kind is ReportKind.COMPLETION:
            pieces.append((draw(st.sampled_from(DONE_WORDS)), False))
        count = draw(st.sampled_from(("none", "fraction", "single")))
        voters = draw(st.booleans())
        if kind is ReportKind.TURNOUT:
            count = "fraction" if count == "none" else count
            voters = voters or (count == "single" and not timed)
        if count == "fraction":
            fields["voted"], fields["list_size"], text = draw(fractions(20000))
            pieces.append((text, False))
        elif count == "single":
            fields["voted"], text = draw(numbers(0, 20000))
            pieces.append((text, False))
        if voters:
            pieces.append((draw(st.sampled_from(VOTER_WORDS)), False))
    pieces += [(f, False) for f in draw(st.lists(st.sampled_from(FILLERS), max_size=2))]
    return fields, head + draw(st.permutations(pieces))


def leading_digits(piece: str) -> int:
    return len(piece) - len(piece.lstrip("0123456789"))


def join(draw: st.DrawFn, pieces: list[Piece]) -> str:
    """Join pieces so that the grammar sees the same tokens the generator meant."""
    out, previous_is_time = pieces[0]
    for piece, is_time in pieces[1:]:
        separators = [" ", ", ", " - ", "  "]
        # A plain space would make "9h 30" or "lúc 9 30" minutes, "5 250" one number.
        grouped = out[-1].isdigit() and leading_digits(piece) == 3
        if piece[0].isdigit() and (previous_is_time or grouped):
            separators = [", ", " - ", " , "]
        out += pick(draw, separators) + piece
        previous_is_time = is_time
    return out


CASINGS: tuple[Callable[[str], str], ...] = (str, str.upper, str.lower, str.title)


def styled(draw: st.DrawFn, text: str) -> str:
    if draw(st.booleans()):
        text = unaccent(text)
    text = draw(st.sampled_from(CASINGS))(text)
    if draw(st.booleans()):
        text = unicodedata.normalize("NFD", text)
    return text.replace(" ", draw(st.sampled_from((" ", "\u00a0", "\t"))))


@st.composite
def messages(draw: st.DrawFn) -> tuple[str, list[ParsedReport]]:
    segments: list[str] = []
    expected: list[ParsedReport] = []
    area: str | None = None
    for index in range(draw(st.integers(1, 3))):
        fields, pieces = draw(one_report())
        body = styled(draw, join(draw, pieces))
        if draw(st.booleans()):
            area = draw(st.sampled_from(CODES))
            body = f"{area}: {body}"
        segment = draw(st.sampled_from(("", " "))) + body + draw(st.sampled_from(("", " ", ".")))
        segments.append(segment)
        expected.append(ParsedReport(index=index, text=segment.strip(), area_code=area, **fields))
    separators = st.sampled_from(("\n", ";", "; ", "\r\n", ";\n", "\n\n"))
    text = segments[0]
    for segment in segments[1:]:
        text += draw(separators) + segment
    return text, expected


@settings(max_examples=250, deadline=None)
@given(messages())
def test_round_trip(case: tuple[str, list[ParsedReport]]) -> None:
    text, expected = case
    assert pinned(parse_message(text)) == pinned(list(expected))


@pytest.mark.parametrize(
    ("text", "kind", "voted", "hour", "minute"),
    [
        ("Kết thúc bỏ phiếu lúc 11h45, 320/320", ReportKind.COMPLETION, 320, 11, 45),
        ("Đến 9h: 250/320", ReportKind.TURNOUT, 250, 9, 0),
    ],
)
def test_natural_phrasings(text: str, kind: ReportKind, voted: int, hour: int, minute: int) -> None:
    [line] = parse_message(text)
    assert isinstance(line, ParsedReport)
    assert (line.kind, line.voted, line.time) == (kind, voted, dt.time(hour, minute))
