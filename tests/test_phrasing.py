"""Natural phrasing (issue 14): what officials actually type, read or asked about, never guessed.

The grammar's side (bot/turnout/grammar.py: what the text says) and the resolution's side
(bot/turnout/phrasing.py: which area, which half of the day, does the percentage fit); the whole
intake is exercised by the corpus table test (tests/test_phrasing_corpus.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.channel import Address
from bot.model import Person, Report, UnitSpec
from bot.registration.access import Caller
from bot.turnout.grammar import parse_message
from bot.turnout.lines import ParsedReport, ReportKind, StatedDate, UnreadableLine
from bot.turnout.lines import UnreadableReason as R
from bot.turnout.phrasing import (
    AreaRefusal,
    Question,
    afternoon_reading,
    area_numbers,
    complete_report,
    resolve_area,
)
from bot.turnout.rules import Candidate, Outcome
from storage.tree import UnitIndex

T, C, X = ReportKind.TURNOUT, ReportKind.COMPLETION, ReportKind.COVID
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = dt.date(2021, 5, 23)

SOMEONE = Address("telegram", "1")  # whoever sent the reports here


def one(text: str) -> ParsedReport | UnreadableLine:
    lines = parse_message(text)
    assert len(lines) == 1, lines
    return lines[0]


def t(hour: int, minute: int = 0) -> dt.time:
    return dt.time(hour, minute)


# --------------------------------------------------------------------------- read

READ: list[tuple[str, dict[str, Any]]] = [
    # the area by name or number
    ("Tổ 6 TT Mường Khương: 250/320 9h", {"area_number": 6, "area_place": "muong khuong"}),
    ("KV 3 xã Bản Lầu báo cáo: 250/320 9h", {"area_number": 3, "area_place": "ban lau"}),
    ("KVBP số 2 250/320 lúc 9h", {"area_number": 2, "voted": 250}),
    ("Khu vực 5 250/320 9h", {"area_number": 5, "voted": 250, "list_size": 320}),
    ("Tổ bầu cử số 5: 250/320 9h", {"area_number": 5}),
    ("KV05 250/320 9h", {"area_number": 5, "area_code": "KV05", "voted": 250}),
    ("Kv5: 250/320 9h", {"area_code": "Kv5", "voted": 250}),
    ("KV 05: 250/320 9h", {"area_number": 5, "voted": 250}),
    ("Phường Xuân Hương - KVBP số 11: 250/320", {"area_number": 11, "area_place": "xuan huong"}),
    # words around the numbers
    ("Kính gửi BCĐ, em báo cáo 250/320 lúc 9h ạ", {"voted": 250, "time": t(9)}),
    ("Dạ em báo cáo: tính đến 9h đã có 250 cử tri đi bầu", {"voted": 250, "time": t(9)}),
    ("Tới 10h: 250 người trên tổng số 320", {"voted": 250, "list_size": 320, "time": t(10)}),
    ("250 trên 320 lúc 9h nhé", {"voted": 250, "list_size": 320}),
    ("9h 250 người/320 người", {"voted": 250, "list_size": 320}),
    ("9h: 250/ tổng 320", {"voted": 250, "list_size": 320}),
    ("9h: 250 trong tổng số 320 cử tri 👍", {"voted": 250, "list_size": 320}),
    ("Mưa to nhưng cử tri vẫn đi bầu đông, 9h 250/320", {"voted": 250, "list_size": 320}),
    # times
    ("9.30: 255/320", {"time": t(9, 30), "afternoon_possible": True}),
    ("9h30ph 255/320", {"time": t(9, 30)}),
    ("9 rưỡi 255/320", {"time": t(9, 30)}),
    ("9 giờ sáng 255/320", {"time": t(9), "afternoon_possible": False}),
    ("2h chiều 300/320", {"time": t(14), "afternoon_possible": False}),
    ("7 giờ tối 310/320", {"time": t(19)}),
    ("12h trưa 290/320", {"time": t(12), "afternoon_possible": False}),
    ("09:30 255/320", {"time": t(9, 30), "afternoon_possible": False}),
    ("6h: 316/320", {"time": t(6), "afternoon_possible": True}),
    ("18h: 316/320", {"time": t(18), "afternoon_possible": False}),
    # percentages and dates beside a count
    ("9h: 250/320 đạt 78,1%", {"voted": 250, "percent": 78.1}),
    ("250/320 (77,7%) 9h", {"voted": 250, "percent": 77.7}),
    ("Tỷ lệ 78,1%: 250/320 9h", {"voted": 250, "percent": 78.1}),
    ("đạt 95 cử tri lúc 9h", {"voted": 95}),
    ("BC ngày 23/5: 250/320 9h", {"voted": 250, "date": StatedDate(day=23, month=5)}),
    ("23/5/2021 9h 250/320", {"date": StatedDate(day=23, month=5, year=2021)}),
    ("ngày 23-5 lúc 9h 250/320", {"date": StatedDate(day=23, month=5)}),
    ("15.3.2026 9h 250/320", {"date": StatedDate(day=15, month=3, year=2026)}),
    ("sđt 0912 345 678, 250/320 9h", {"voted": 250, "list_size": 320}),
    # completion and correction in words
    ("Xong rồi", {"kind": C, "voted": None}),
    ("Đã xong rồi ạ", {"kind": C}),
    ("Kết thúc bầu cử lúc 17h", {"kind": C, "time": t(17)}),
    ("Hoàn thành 100%", {"kind": C, "whole_list": True, "voted": None}),
    ("xong 100% lúc 11h40", {"kind": C, "whole_list": True, "time": t(11, 40)}),
    ("kết thúc bỏ phiếu 17h, 100%", {"kind": C, "whole_list": True}),
    ("Xong lúc 11h45, 320/320", {"kind": C, "voted": 320, "time": t(11, 45)}),
    ("Xin sửa lại: 9h là 245/320", {"is_correction": True, "voted": 245, "time": t(9)}),
    (
        "Em nhầm, 9h là 245/320 chứ không phải 254",
        {"is_correction": True, "voted": 245, "list_size": 320},
    ),
    # COVID in words
    ("Test nhanh 16/16 âm tính", {"kind": X, "staff_tested": 16, "positives": 0}),
    ("XN nhanh 16 thành viên âm tính", {"kind": X, "staff_tested": 16, "staff_total": None}),
    ("Đã test 16/16, không có ca dương tính", {"kind": X, "positives": 0}),
    ("16/16 âm tính", {"kind": X, "staff_tested": 16, "staff_total": 16}),
    ("xn 16/16 AT", {"kind": X, "positives": 0}),
    ("XN 16/16, dt 0", {"kind": X, "positives": 0}),
    ("xn 15/16 có 1 ca dương tính", {"kind": X, "positives": 1}),
    ("Đã xong XN 16/16 âm tính", {"kind": X, "staff_tested": 16}),
]


@pytest.mark.parametrize(("text", "fields"), READ, ids=[r[0] for r in READ])
def test_natural_forms_are_read(text: str, fields: dict[str, Any]) -> None:
    line = one(text)
    assert isinstance(line, ParsedReport), line
    fields = {"kind": T} | fields
    assert {key: getattr(line, key) for key in fields} == fields


def test_several_reports_on_one_line() -> None:
    lines = parse_message("9h 250/320, 10h 290/320 - 11h 300/320. 12h 310/320")
    assert [(line.time, line.voted) for line in lines if isinstance(line, ParsedReport)] == [
        (t(9), 250),
        (t(10), 290),
        (t(11), 300),
        (t(12), 310),
    ]
    assert [line.index for line in lines] == [0, 1, 2, 3]


def test_a_time_after_several_reports_does_not_spread() -> None:
    lines = parse_message("250/320, 290/320 10h")
    assert [(getattr(line, "time", "?"), getattr(line, "voted", "?")) for line in lines] == [
        (None, 250),
        (t(10), 290),
    ]


def test_a_named_area_heads_the_reports_that_follow() -> None:
    lines = parse_message("Kính gửi BCĐ xã\nKV 3 xã Bản Lầu báo cáo:\n9h: 250/320\n10h: 290/320")
    assert lines[0] == UnreadableLine(index=0, text="Kính gửi BCĐ xã", area_code=None,
                                      reason=R.NO_REPORT)  # fmt: skip
    assert [(line.area_number, line.area_place) for line in lines[1:]] == [(3, "ban lau")] * 2


ASKED: list[tuple[str, R]] = [
    ("Đến 10h đạt 85", R.PERCENT_ONLY),
    ("đạt 78%", R.PERCENT_ONLY),
    ("Tỷ lệ 78,1% lúc 9h", R.PERCENT_ONLY),
    ("Đến 9h đạt 78%", R.PERCENT_ONLY),
    ("9h: -5/320", R.NEGATIVE_NUMBER),
    ("9h: 250/320, còn 70 chưa bầu", R.UNPLACED_NUMBER),
    ("9h 250/320, 2 cử tri ốm", R.UNPLACED_NUMBER),
    ("khoảng 250 lúc 9h", R.UNPLACED_NUMBER),
    ("hơn 250 cử tri 9h", R.UNPLACED_NUMBER),
    ("gần 250/320 9h", R.UNPLACED_NUMBER),
    ("báo nhầm 321", R.UNPLACED_NUMBER),
    ("9h 1.2k cử tri", R.UNCLEAR_DIGITS),
    ("9h 1,2 nghìn cử tri", R.UNCLEAR_DIGITS),
    ("9h 1,234/2,000", R.UNCLEAR_DIGITS),
    ("hai trăm năm mươi cử tri", R.UNPLACED_NUMBER),
    ("9h 250/320 10h 290/320", R.TOO_MANY_NUMBERS),
    ("9.75: 250/320", R.UNCLEAR_DIGITS),
]


@pytest.mark.parametrize(("text", "reason"), ASKED, ids=[a[0] for a in ASKED])
def test_what_cannot_be_placed_is_asked(text: str, reason: R) -> None:
    line = one(text)
    assert isinstance(line, UnreadableLine), line
    assert line.reason is reason


NO_REPORT = [
    "Cho hỏi bao giờ phải báo cáo?",
    "Kính gửi BCĐ",
    "Dạ em báo cáo",
    "BC 23/5",
    "Ngày 23/5/2021",
    "Mưa to nhưng cử tri vẫn đi bầu đông",
    "Cảm ơn anh ạ 🙏",
    "sđt em 0912345678",
    "Tổ 6 TT Mường Khương",
]


@pytest.mark.parametrize("text", NO_REPORT)
def test_no_report_is_not_a_grammar_error(text: str) -> None:
    line = one(text)
    assert isinstance(line, UnreadableLine) and line.reason is R.NO_REPORT, line


def test_everything_not_understood_is_named_at_once() -> None:
    line = one("khoảng 250, còn 70 chưa bầu, abc12")
    assert isinstance(line, UnreadableLine)
    assert {"khoảng", "còn", "abc12"} <= set(line.details)


# --------------------------------------------------------------------------- never a wrong number

# Numbers that are not counts, each with the text that carries it.
decoys = st.one_of(
    st.builds(lambda d, m: (f"{d}/{m}", {d, m}), st.integers(13, 31), st.integers(1, 12)),
    st.builds(lambda d, m: (f"ngày {d}-{m}", {d, m}), st.integers(1, 31), st.integers(1, 12)),
    st.builds(
        lambda d, m, y: (f"{d}/{m}/{y}", {d, m, y}),
        st.integers(1, 31),
        st.integers(1, 12),
        st.sampled_from([2021, 2026]),
    ),
    st.builds(lambda d, m: (f"{d}.{m}.2026", {d, m}), st.integers(1, 31), st.integers(1, 12)),
    st.builds(lambda p: (f"đạt {p}%", {p}), st.integers(0, 100)),
    st.builds(lambda p, q: (f"({p},{q}%)", {p, q}), st.integers(0, 99), st.integers(1, 9)),
    st.builds(lambda p: (f"tỷ lệ {p}%", {p}), st.integers(0, 100)),
    st.builds(lambda n: (f"Khu vực {n}", {n}), st.integers(1, 99)),
    st.builds(lambda n: (f"KVBP số {n}", {n}), st.integers(1, 99)),
    st.builds(lambda n: (f"Tổ {n} xã Bản Lầu:", {n}), st.integers(1, 99)),
    st.builds(lambda n: (f"KV{n:02d}", {n}), st.integers(1, 99)),
    st.builds(lambda n: (f"0912{n:06d}", {n, 912}), st.integers(0, 999999)),
    st.builds(lambda n: (f"sđt 0912 345 {n:03d}", {n, 912, 345}), st.integers(100, 999)),
    st.builds(lambda n: (f"-{n}/320", {n}), st.integers(1, 320)),
    st.builds(lambda n: (f"đạt {n}", {n}), st.integers(0, 100)),
    st.builds(lambda n: (f"khoảng {n}", {n}), st.integers(1, 999)),
    st.builds(lambda n: (f"còn {n} chưa bầu", {n}), st.integers(1, 999)),
)
report_parts = st.sampled_from(
    ["", "9h", "lúc 10h30", "báo cáo", "xong", "xn", "âm tính", "cử tri", "người", "em", "ạ"]
)


@settings(max_examples=600, deadline=None, derandomize=True)
@given(
    st.lists(st.one_of(decoys, report_parts.map(lambda w: (w, set()))), min_size=1, max_size=6),
    st.sampled_from([" ", ", ", " - ", "\n", ": "]),
)
def test_no_count_is_ever_a_date_percentage_area_or_phone(
    pieces: list[tuple[str, set[int]]], joiner: str
) -> None:
    """Whatever surrounds them, the numbers of dates, percentages, area numbers, phones,
    negative numbers and approximations never come back as a count or a list size."""
    text = joiner.join(piece for piece, _ in pieces)
    decoy_numbers = set().union(*(numbers for _, numbers in pieces))
    for line in parse_message(text):
        if isinstance(line, ParsedReport):
            stored = {line.voted, line.list_size, line.staff_tested, line.staff_total}
            assert not (stored & decoy_numbers), (text, line)


# --------------------------------------------------------------------------- resolution

TREE = [
    UnitSpec("LC", None, "tỉnh", "Tỉnh Lào Cai", None, None),
    UnitSpec("02758", "LC", "xã", "Xã Pha Long", None, None),
    UnitSpec("02758-01", "02758", "kv", "Khu vực bỏ phiếu số 1 – Thôn Na Lốc", 300, 12),
    UnitSpec("02758-02", "02758", "kv", "Khu vực bỏ phiếu số 2 – Thôn Sín Chải", 300, 12),
    UnitSpec("02752", "LC", "xã", "Xã Pha Long", None, None),
    UnitSpec("02752-01", "02752", "kv", "Khu vực bỏ phiếu số 1 – Pha Long", 320, 16),
    UnitSpec("02752-05", "02752", "kv", "Khu vực bỏ phiếu số 5 – Pha Long", 280, None),
    UnitSpec("02755", "LC", "xã", "Xã Bản Lầu", None, None),
    UnitSpec("02755-05", "02755", "kv", "Khu vực bỏ phiếu số 5 – Bản Lầu", 300, 15),
]
UNITS = UnitIndex.from_specs(TREE)


def caller(areas: tuple[str, ...] = (), supervised: tuple[str, ...] = ()) -> Caller:
    person = Person(
        identity=SOMEONE,
        phone="+84912000000",
        name="A",
        chat=SOMEONE,
        units=areas,
    )
    return Caller(SOMEONE, False, person, areas, supervised)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thôn Na Lốc: 250/300 9h", "02758-01"),
        ("Sin Chai 250/300 9h", "02758-02"),
        ("Pha Long 250/300 9h", "needs_prefix"),  # the commune names both
    ],
)
def test_an_area_named_by_its_own_name(text: str, expected: str) -> None:
    found = resolve_area(None, None, None, caller(("02758-01", "02758-02")), UNITS, text)
    assert (found.reason if isinstance(found, AreaRefusal) else found.code) == expected


def test_area_numbers_come_from_code_and_name() -> None:
    area = UNITS.get("02752-05")
    assert area is not None and area_numbers(area) == {5}


@pytest.mark.parametrize(
    ("who", "code", "number", "place", "expected"),
    [
        (caller(("02752-05",)), None, 5, None, "02752-05"),
        (caller(("02752-05",)), "Kv5", None, None, "02752-05"),
        (caller(("02752-05",)), "KV05", 5, None, "02752-05"),
        (caller(("02752-05",)), None, 5, "pha long", "02752-05"),
        (caller(("02752-05",)), None, 5, "ban lau", "named_not_yours"),  # another commune's 5
        (caller(("02752-05",)), None, 1, None, "named_not_yours"),
        (caller(("02752-05",)), "Chao", None, None, "02752-05"),  # a label, not a code
        (caller(("02752-05",)), "02755-05", None, None, "not_your_unit"),
        (caller(("02752-05",)), "ZZ-9-X", None, None, "unknown_unit"),
        (caller(("02752-05",)), "BL05", None, None, "02752-05"),  # letters, then the number
        (caller(supervised=("LC",)), None, 5, None, "named_ambiguous"),
        (caller(supervised=("LC",)), None, 5, "Bản Lầu", "02755-05"),
        (caller(supervised=("LC",)), None, None, None, "needs_code"),
        (caller(("02752-01", "02752-05")), None, None, None, "needs_prefix"),
    ],
)
def test_resolve_area(
    who: Caller, code: str | None, number: int | None, place: str | None, expected: str
) -> None:
    found = resolve_area(code, number, place, who, UNITS)
    got = found.reason if isinstance(found, AreaRefusal) else found.code
    assert got == expected


def report(text: str, **fields: Any) -> ParsedReport:
    base: dict[str, Any] = {"index": 0, "text": text, "area_code": None, "kind": T}
    return ParsedReport(**(base | fields))


def stored(rid: int, hour: int, voted: int, kind: str = "turnout") -> Report:
    at = int(dt.datetime.combine(DAY, dt.time(hour), tzinfo=TZ).timestamp())
    return Report(
        area_code="02752-01", kind=kind, at=at, time_stated=True, received_at=at,
        sender=SOMEONE, chat=SOMEONE, message_ref=str(rid), line_index=0, text="",
        is_correction=False,
        voted=voted, list_size=320, staff_tested=None, staff_total=None, positives=None,
        id=rid, replaced_by=None,
    )  # fmt: skip


AREA = UNITS.get("02752-01")
NO_STAFF = UNITS.get("02752-05")
assert AREA is not None and NO_STAFF is not None


@pytest.mark.parametrize(
    ("line", "current", "expected"),
    [
        (report("", kind=C, whole_list=True), [stored(1, 9, 310)], {"voted": 320}),
        (report("", voted=250, list_size=320, percent=78.1), [], {"voted": 250}),
        (report("", voted=250, list_size=320, percent=85.0), [], "percent_mismatch"),
        (report("", kind=C, voted=318, list_size=320, percent=100.0), [], "percent_mismatch"),
        (report("", voted=250, date=StatedDate(day=23, month=5)), [], {"voted": 250}),
        (report("", voted=250, date=StatedDate(day=22, month=5)), [], "wrong_date"),
        (report("", voted=250, date=StatedDate(day=23, month=5, year=2026)), [], "wrong_date"),
        (
            report(
                "",
                kind=X,
                staff_tested=16,
                staff_total=16,
                positives=0,
                date=StatedDate(day=22, month=5),
            ),
            [],
            {"staff_total": 16},
        ),
        (report("", kind=X, staff_tested=16, positives=0), [], {"staff_total": 16}),
    ],
)
def test_complete_report(line: ParsedReport, current: list[Report], expected: Any) -> None:
    assert AREA is not None
    done = complete_report(line, AREA, current, DAY)
    if isinstance(expected, str):
        assert isinstance(done, Question) and done.reason == expected
    else:
        assert isinstance(done, ParsedReport)
        assert {k: getattr(done, k) for k in expected} == expected


AFTER, BEFORE = DAY + dt.timedelta(days=1), DAY - dt.timedelta(days=1)


@pytest.mark.parametrize(
    ("line", "arrived", "expected"),
    [
        # Untimed: the arrival's time would be stored, which means nothing on another day.
        (report("", kind=T, voted=260, list_size=320), AFTER, "arrived_off_day"),
        (report("", kind=C, voted=300), BEFORE, "arrived_off_day"),
        (report("", kind=T, voted=260, list_size=320), DAY, None),  # on the day: its arrival
        # A stated time is placed on the election date, whenever it is sent.
        (report("", kind=T, voted=260, list_size=320, time=dt.time(10)), AFTER, None),
        # COVID tallies carry no time and may be sent the day before.
        (report("", kind=X, staff_tested=16, staff_total=16, positives=0), BEFORE, None),
    ],
    ids=["untimed-day-after", "untimed-completion-day-before", "untimed-on-the-day",
         "timed-day-after", "covid-day-before"],
)  # fmt: skip
def test_an_untimed_report_counts_only_on_the_election_day(
    line: ParsedReport, arrived: dt.date, expected: str | None
) -> None:
    assert AREA is not None
    done = complete_report(line, AREA, [], DAY, arrived=arrived)
    if expected is None:
        assert isinstance(done, ParsedReport), done
    else:
        assert isinstance(done, Question) and done.reason == expected
        assert done.facts == {"arrived": arrived, "election": DAY}


def test_covid_total_is_asked_when_the_area_has_no_staff_figure() -> None:
    assert NO_STAFF is not None
    done = complete_report(report("", kind=X, staff_tested=16, positives=0), NO_STAFF, [], DAY)
    assert isinstance(done, Question) and done.reason == "covid_needs_total"


def at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(DAY, dt.time(hour, minute), tzinfo=TZ)


@pytest.mark.parametrize(
    ("hour", "sent", "current", "expected"),
    [
        (6, at(18, 6), [], "ask"),  # both valid: "6h sáng hay 18h?"
        (6, at(18, 6), [stored(1, 9, 250)], 18),  # 06:00 would be above 09:00's 250
        (9, at(10, 0), [], 9),  # 21:00 is in the future
        (3, at(15, 10), [], 15),  # 03:00 is before the polls open
        (5, at(17, 8), [stored(1, 10, 200)], 17),
        (4, at(10, 0), [], 4),  # neither valid: the morning reading's refusal stands
    ],
)
def test_afternoon_reading(
    hour: int, sent: dt.datetime, current: list[Report], expected: Any
) -> None:
    assert AREA is not None
    line = report("", voted=316, list_size=320, time=t(hour), afternoon_possible=True)
    candidate = Candidate(report=line, at=at(hour), received_at=sent)
    choice = afternoon_reading(AREA, False, current, candidate)
    if expected == "ask":
        assert choice.ask == (at(hour), at(hour + 12))
        return
    assert choice.ask is None
    assert choice.candidate.at.hour == expected
    assert choice.candidate.report.time == t(expected)
    if expected == 4:
        assert choice.verdict.outcome is Outcome.REJECTED
